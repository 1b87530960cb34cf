//! Prometheus metrics, all prefixed `sightline_collector_`, served as text on `/metrics`.
//!
//! Each help text is the metric's "Meaning" in collector/README.md (`make docs` writes the
//! table from a registry where every family has one series, see `touch_every_family`).

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

/// A histogram family needs a constructor; a plain `fn` keeps the type nameable.
type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn batch_duration_histogram() -> Histogram {
    // 50 µs .. ~13 s: a refusal costs microseconds, an acknowledged batch milliseconds.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 19))
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IvtLabel {
    pub class: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteLabel {
    pub site: String,
}

/// `site` is a configured site key and `reason` one of the SDK's fixed set: bounded by the
/// configuration, whatever clients send.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SiteReasonLabel {
    pub site: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimiterLabel {
    pub limiter: String,
}

/// Which cap refused a connection at accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionLimit {
    /// `server.max_connections`
    MaxConnections,
    /// `connections.max_per_ip`
    MaxPerIp,
}

impl ConnectionLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionLimit::MaxConnections => "max_connections",
            ConnectionLimit::MaxPerIp => "max_per_ip",
        }
    }
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabel {
    pub limit: &'static str,
}

/// Why the server closed a connection on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// No complete first request head within `server.header_read_timeout_ms` of accept.
    HeaderTimeout,
    /// No request in progress for `connections.idle_timeout_ms`.
    IdleTimeout,
    /// Older than `connections.max_age_ms`.
    MaxAge,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::HeaderTimeout => "header_timeout",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::MaxAge => "max_age",
        }
    }
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloseLabel {
    pub reason: &'static str,
}

/// A privacy mode (`persistent`, `cookieless`, `restricted`).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModeLabel {
    pub mode: &'static str,
}

/// A kind of PII (`email`, `phone`, `aadhaar`, `pan`, `card`).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PiiLabel {
    pub kind: &'static str,
}

/// Imported messages by source and outcome (`accepted`, `rejected`).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceOutcomeLabels {
    pub source: String,
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RouteStatus, Counter>,
    pub events_accepted: Family<KindLabel, Counter>,
    pub events_rejected: Family<ReasonLabel, Counter>,
    pub events_overflowed: Counter,
    pub requests_refused: Family<CodeLabel, Counter>,
    pub rate_limited: Family<LimiterLabel, Counter>,
    pub batch_duration: HistogramFamily<OutcomeLabel>,
    pub ack_latency: Histogram,
    pub queue_depth: Gauge,
    pub kafka_reachable: Gauge,
    pub clock_skew: Histogram,
    pub connections_open: Gauge,
    pub connections_refused: Family<LimitLabel, Counter>,
    pub connections_closed: Family<CloseLabel, Counter>,
    pub buffered_body_bytes: Gauge,
    pub proxy_header_errors: Counter,
    pub client_evicted_batches: Family<SiteLabel, Counter>,
    pub sdk_unavailable: Family<SiteReasonLabel, Counter>,
    pub import_messages: Family<SourceOutcomeLabels, Counter>,
    pub ivt_events: Family<IvtLabel, Counter>,
    pub privacy_events: Family<ModeLabel, Counter>,
    pub identity_stripped: Family<ModeLabel, Counter>,
    pub pii_redactions: Family<PiiLabel, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sightline_collector");
        let http_requests = Family::<RouteStatus, Counter>::default();
        registry.register(
            "http_requests",
            "Every answered request, by route (`/v1/batch`, `/healthz`, `/readyz`, `/metrics`, \
             `other`) and status",
            http_requests.clone(),
        );
        let events_accepted = Family::<KindLabel, Counter>::default();
        registry.register(
            "events_accepted",
            "Events acknowledged (on the events topic or their kind topic, as routing.records lays them out, or the overflow topic), by kind",
            events_accepted.clone(),
        );
        let events_rejected = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "events_rejected",
            "Events sent to the dead-letter topic, by reason",
            events_rejected.clone(),
        );
        let events_overflowed = Counter::default();
        registry.register(
            "events_overflowed",
            "Hot-user events sent to the overflow topic",
            events_overflowed.clone(),
        );
        let requests_refused = Family::<CodeLabel, Counter>::default();
        registry.register(
            "requests_refused",
            "Whole batch requests refused, by error code",
            requests_refused.clone(),
        );
        let rate_limited = Family::<LimiterLabel, Counter>::default();
        registry.register(
            "rate_limited",
            "Limiter decisions (hot-user overflow included), by limiter: `ip`, `site`, \
             `hot_user`, `ip_concurrency`",
            rate_limited.clone(),
        );
        let batch_duration: HistogramFamily<OutcomeLabel> =
            Family::new_with_constructor(batch_duration_histogram);
        registry.register(
            "batch_request_duration_seconds",
            "Time to answer POST /v1/batch, from the request head to the response, by \
             outcome: `accepted` (200) or `refused` (any error answer; a load-shedding 503 \
             costs microseconds)",
            batch_duration.clone(),
        );
        // 0.5 ms .. ~16 s
        let ack_latency = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "produce_ack_latency_seconds",
            "From handing a request's records to the sink until all were acknowledged",
            ack_latency.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "producer_queue_depth",
            "Records not yet acknowledged by Kafka (updated on scrape and `/readyz`)",
            queue_depth.clone(),
        );
        let kafka_reachable = Gauge::default();
        registry.register(
            "kafka_reachable",
            "1 while the last Kafka broker probe answered, else 0 (updated on scrape and /readyz)",
            kafka_reachable.clone(),
        );
        let clock_skew = Histogram::new([
            0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 3600.0, 86_400.0, 604_800.0,
        ]);
        registry.register(
            "client_clock_skew_seconds",
            "Absolute difference between a batch's client `sent_at` and the server's \
             receive time, per batch",
            clock_skew.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "connections_open",
            "Open client connections",
            connections_open.clone(),
        );
        let connections_refused = Family::<LimitLabel, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections closed at accept, by the cap that was reached: `max_connections` \
             (`server.max_connections`), `max_per_ip` (`connections.max_per_ip`)",
            connections_refused.clone(),
        );
        let connections_closed = Family::<CloseLabel, Counter>::default();
        registry.register(
            "connections_closed",
            "Connections the server ended on its own, by reason: `header_timeout` (no first \
             request head in time: silent, partial HTTP/2 preface, h2c preface then nothing, \
             slow head), `idle_timeout`, `max_age` (too old)",
            connections_closed.clone(),
        );
        let buffered_body_bytes = Gauge::default();
        registry.register(
            "buffered_body_bytes",
            "Request body bytes held now (of `server.max_buffered_body_bytes`; updated on scrape)",
            buffered_body_bytes.clone(),
        );
        let proxy_header_errors = Counter::default();
        registry.register(
            "proxy_header_errors",
            "Connections dropped for a missing or invalid PROXY protocol header",
            proxy_header_errors.clone(),
        );
        let client_evicted_batches = Family::<SiteLabel, Counter>::default();
        registry.register(
            "client_evicted_batches",
            "Undelivered batches browsers' durable queues evicted over their byte cap, as \
             reported by accepted batches (`Batch.evicted_batches`, each eviction once; values \
             above `limits.max_evicted_batches_reported` are ignored), by site. A lower \
             bound: a report can be lost with a batch evicted later",
            client_evicted_batches.clone(),
        );
        let sdk_unavailable = Family::<SiteReasonLabel, Counter>::default();
        registry.register(
            "sdk_unavailable",
            "Page views where the browser SDK could not start, as reported by its fallback \
             beacon (`POST /v1/unavailable`), by site and reason: `no_wasm` (no WebAssembly), \
             `fetch` (the .wasm not fetched: offline, CSP connect-src, 404), `wasm` (compiling \
             it refused, e.g. a CSP without 'wasm-unsafe-eval'). A lower bound: a policy that \
             blocks the collector blocks the beacon too",
            sdk_unavailable.clone(),
        );
        let import_messages = Family::<SourceOutcomeLabels, Counter>::default();
        registry.register(
            "import_messages",
            "Messages of the JSON import API answered 200, by source (`[[sources]] name`) and \
             outcome: `accepted` (produced) or `rejected` (dead letter)",
            import_messages.clone(),
        );
        let ivt_events = Family::<IvtLabel, Counter>::default();
        registry.register(
            "ivt_events",
            "Accepted events by traffic class (`valid`, `givt`, `sivt`) and invalid-traffic \
             reason (`crawler`, `automation`, …, see README); an event with several reasons \
             counts once per reason, a valid event once with reason `none`",
            ivt_events.clone(),
        );
        let privacy_events = Family::<ModeLabel, Counter>::default();
        registry.register(
            "privacy_events",
            "Events of delivered batches by the identity mode the collector enforced \
             (`persistent`, `cookieless`, `restricted`; docs/privacy.md), accepted or not",
            privacy_events.clone(),
        );
        let identity_stripped = Family::<ModeLabel, Counter>::default();
        registry.register(
            "identity_stripped",
            "Delivered batches from which the collector removed identity their mode forbids \
             (anonymous or user id, traits, experiments) that the page sent anyway, by mode",
            identity_stripped.clone(),
        );
        let pii_redactions = Family::<PiiLabel, Counter>::default();
        registry.register(
            "pii_redactions",
            "PII the collector replaced with a placeholder in delivered batches, by kind \
             (`email`, `phone`, `aadhaar`, `pan`, `card`)",
            pii_redactions.clone(),
        );
        Self {
            registry,
            http_requests,
            events_accepted,
            events_rejected,
            events_overflowed,
            requests_refused,
            rate_limited,
            batch_duration,
            ack_latency,
            queue_depth,
            kafka_reachable,
            clock_skew,
            connections_open,
            connections_refused,
            connections_closed,
            buffered_body_bytes,
            proxy_header_errors,
            client_evicted_batches,
            sdk_unavailable,
            import_messages,
            ivt_events,
            privacy_events,
            identity_stripped,
            pii_redactions,
        }
    }

    /// Counts a delivered batch's privacy enforcement.
    pub fn count_privacy(&self, report: &crate::privacy::Report) {
        let Some(mode) = report.mode else {
            return;
        };
        let mode = crate::privacy::mode::label(mode);
        self.privacy_events
            .get_or_create(&ModeLabel { mode })
            .inc_by(report.events);
        if report.identity_stripped {
            self.identity_stripped
                .get_or_create(&ModeLabel { mode })
                .inc();
        }
        for kind in crate::privacy::scrub::PiiKind::ALL {
            let n = report.redactions.get(kind);
            if n > 0 {
                self.pii_redactions
                    .get_or_create(&PiiLabel { kind: kind.name() })
                    .inc_by(u64::from(n));
            }
        }
    }

    /// Counts one accepted event's traffic class, once per reason.
    pub fn count_ivt(&self, verdict: crate::ivt::Verdict) {
        let class = crate::ivt::class_name(verdict.class());
        if verdict.is_valid() {
            self.ivt_events
                .get_or_create(&IvtLabel {
                    class,
                    reason: "none".to_owned(),
                })
                .inc();
            return;
        }
        for reason in verdict.values() {
            self.ivt_events
                .get_or_create(&IvtLabel {
                    class: class.clone(),
                    reason: crate::ivt::reason_name(reason),
                })
                .inc();
        }
    }

    pub fn count_import(&self, source: &str, outcome: &'static str, n: u64) {
        if n > 0 {
            self.import_messages
                .get_or_create(&SourceOutcomeLabels {
                    source: source.to_owned(),
                    outcome,
                })
                .inc_by(n);
        }
    }

    pub fn count_request(&self, route: &str, status: u16) {
        self.http_requests
            .get_or_create(&RouteStatus {
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    pub fn count_accepted(&self, kind: &str, n: u64) {
        self.events_accepted
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc_by(n);
    }

    pub fn count_rejected(&self, reason: &str, n: u64) {
        self.events_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc_by(n);
    }

    pub fn count_refused(&self, code: &str) {
        self.requests_refused
            .get_or_create(&CodeLabel {
                code: code.to_owned(),
            })
            .inc();
    }

    pub fn observe_batch_duration(&self, accepted: bool, seconds: f64) {
        let outcome = if accepted { "accepted" } else { "refused" };
        self.batch_duration
            .get_or_create(&OutcomeLabel { outcome })
            .observe(seconds);
    }

    pub fn count_rate_limited(&self, limiter: &str) {
        self.rate_limited
            .get_or_create(&LimiterLabel {
                limiter: limiter.to_owned(),
            })
            .inc();
    }

    /// Adds a batch's `evicted_batches` report for `site` (`ingest` decides what is believed).
    pub fn count_client_evicted(&self, site: &str, reported: u32) {
        self.client_evicted_batches
            .get_or_create(&SiteLabel {
                site: site.to_owned(),
            })
            .inc_by(u64::from(reported));
    }

    /// One SDK that could not start on a page of `site` (a configured site) for `reason`.
    pub fn count_sdk_unavailable(&self, site: &str, reason: &'static str) {
        self.sdk_unavailable
            .get_or_create(&SiteReasonLabel {
                site: site.to_owned(),
                reason,
            })
            .inc();
    }

    pub fn count_connection_refused(&self, limit: ConnectionLimit) {
        self.connections_refused
            .get_or_create(&LimitLabel {
                limit: limit.as_str(),
            })
            .inc();
    }

    pub fn count_connection_closed(&self, reason: CloseReason) {
        self.connections_closed
            .get_or_create(&CloseLabel {
                reason: reason.as_str(),
            })
            .inc();
    }

    /// For sinks that bring their own metrics (the spool).
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        sightline_service::metrics::render(&self.registry)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
impl Metrics {
    /// One series with empty label values in every labelled family, so the rendered text
    /// names every family's labels (the README table is generated from it; a family added
    /// without a line here has no series there and fails `docs::tests`).
    pub(crate) fn touch_every_family(&self) {
        let _ = self.http_requests.get_or_create(&Default::default());
        let _ = self.events_accepted.get_or_create(&Default::default());
        let _ = self.events_rejected.get_or_create(&Default::default());
        let _ = self.requests_refused.get_or_create(&Default::default());
        let _ = self.rate_limited.get_or_create(&Default::default());
        let _ = self.batch_duration.get_or_create(&Default::default());
        let _ = self.connections_refused.get_or_create(&Default::default());
        let _ = self.connections_closed.get_or_create(&Default::default());
        let _ = self
            .client_evicted_batches
            .get_or_create(&Default::default());
        let _ = self.sdk_unavailable.get_or_create(&Default::default());
        let _ = self.import_messages.get_or_create(&Default::default());
        let _ = self.ivt_events.get_or_create(&Default::default());
        let _ = self.privacy_events.get_or_create(&Default::default());
        let _ = self.identity_stripped.get_or_create(&Default::default());
        let _ = self.pii_redactions.get_or_create(&Default::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_are_as_documented() {
        let m = Metrics::new();
        m.count_request("/v1/batch", 200);
        m.count_accepted("click", 3);
        m.count_rejected("string_too_long", 1);
        m.count_rate_limited("ip");
        m.ack_latency.observe(0.01);
        let text = m.render();
        assert!(
            text.contains(
                "sightline_collector_http_requests_total{route=\"/v1/batch\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("sightline_collector_events_accepted_total{kind=\"click\"} 3"));
        assert!(
            text.contains(
                "sightline_collector_events_rejected_total{reason=\"string_too_long\"} 1"
            )
        );
        assert!(text.contains("sightline_collector_rate_limited_total{limiter=\"ip\"} 1"));
        assert!(text.contains("sightline_collector_produce_ack_latency_seconds_count 1"));
        assert!(text.contains("sightline_collector_producer_queue_depth"));
        assert!(text.contains("sightline_collector_kafka_reachable"));
        assert!(text.contains("sightline_collector_client_clock_skew_seconds"));
    }

    #[test]
    fn client_evictions_add_up_per_site() {
        let m = Metrics::new();
        m.count_client_evicted("demo", 3);
        m.count_client_evicted("demo", 10);
        let text = m.render();
        assert!(
            text.contains("sightline_collector_client_evicted_batches_total{site=\"demo\"} 13"),
            "{text}"
        );
        assert!(!text.contains("site=\"other\""), "{text}");
    }

    #[test]
    fn ivt_events_by_class_and_reason() {
        use sightline_proto::v1::IvtReason;
        let m = Metrics::new();
        m.count_ivt(crate::ivt::Verdict::classified());
        let mut v = crate::ivt::Verdict::default();
        v.add(IvtReason::Automation);
        v.add(IvtReason::ClickBurst);
        m.count_ivt(v);
        let text = m.render();
        for line in [
            "sightline_collector_ivt_events_total{class=\"valid\",reason=\"none\"} 1",
            "sightline_collector_ivt_events_total{class=\"givt\",reason=\"automation\"} 1",
            "sightline_collector_ivt_events_total{class=\"givt\",reason=\"click_burst\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing: {text}");
        }
    }
}
