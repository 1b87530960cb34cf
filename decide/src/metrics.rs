//! Prometheus metrics, all prefixed `sightline_decide_`, served as text on `/metrics`.
//! Each family's help text is its meaning in decide/README.md.

use std::sync::atomic::{AtomicU64, Ordering};

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
pub struct PolicyLabel {
    pub policy: &'static str,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: &'static str,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub decisions: Family<PolicyLabel, Counter>,
    pub requests: Family<RouteStatus, Counter>,
    pub refused: Family<CodeLabel, Counter>,
    pub decision_seconds: Histogram,
    pub events: Family<OutcomeLabel, Counter>,
    pub profile_updates: Counter,
    pub profiles: Gauge,
    pub profile_evictions: Counter,
    evictions_seen: AtomicU64,
    pub freshness_seconds: Histogram,
    pub decision_log: Family<OutcomeLabel, Counter>,
    pub catalogue_reloads: Family<OutcomeLabel, Counter>,
    pub erasures: Family<OutcomeLabel, Counter>,
    pub caught_up: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sightline_decide");
        let decisions = Family::<PolicyLabel, Counter>::default();
        registry.register(
            "decisions",
            "Decisions answered, by policy (behavioural, contextual, explore, static)",
            decisions.clone(),
        );
        let requests = Family::<RouteStatus, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let refused = Family::<CodeLabel, Counter>::default();
        registry.register(
            "refused",
            "Requests refused, by error code",
            refused.clone(),
        );
        // 20 µs .. ~80 ms: a decision is tens of microseconds; the p99 goal is 10 ms.
        let decision_seconds = Histogram::new(exponential_buckets(0.000_02, 2.0, 13));
        registry.register(
            "decision_duration_seconds",
            "Time to decide (body parsed to answer built), seconds",
            decision_seconds.clone(),
        );
        let events = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "events",
            "Events read from Kafka, by outcome: profiled, not_allowed (privacy), erased, undecodable",
            events.clone(),
        );
        let profile_updates = Counter::default();
        registry.register(
            "profile_updates",
            "Events folded into a visitor profile",
            profile_updates.clone(),
        );
        let profiles = Gauge::default();
        registry.register(
            "profiles",
            "Visitor profiles held in memory",
            profiles.clone(),
        );
        let profile_evictions = Counter::default();
        registry.register(
            "profile_evictions",
            "Profiles evicted (least recently updated) to stay within profiles.max_profiles",
            profile_evictions.clone(),
        );
        // 1 ms .. ~65 s.
        let freshness_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 17));
        registry.register(
            "profile_freshness_seconds",
            "Collector receive time of an event to its fold into the profile, seconds (live events only)",
            freshness_seconds.clone(),
        );
        let decision_log = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "decision_log_records",
            "Decision log records, by outcome: delivered, failed (broker refused), dropped (queue full)",
            decision_log.clone(),
        );
        let catalogue_reloads = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "catalogue_reloads",
            "Catalogue file reloads, by outcome: ok, invalid (old catalogue kept)",
            catalogue_reloads.clone(),
        );
        let erasures = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "erasures",
            "Erasure requests read, by outcome: applied, no_profile_kind (visitor_id), undecodable",
            erasures.clone(),
        );
        let caught_up = Gauge::default();
        registry.register(
            "caught_up",
            "1 once the consumer reached the end offsets the topics had at start (readyz)",
            caught_up.clone(),
        );
        Self {
            registry,
            decisions,
            requests,
            refused,
            decision_seconds,
            events,
            profile_updates,
            profiles,
            profile_evictions,
            evictions_seen: AtomicU64::new(0),
            freshness_seconds,
            decision_log,
            catalogue_reloads,
            erasures,
            caught_up,
        }
    }

    /// Brings the store-derived series up to date (`evictions_total`: the store's own
    /// count, which only grows) and encodes everything.
    pub fn render(&self, profiles: usize, evictions_total: u64) -> String {
        self.profiles
            .set(i64::try_from(profiles).unwrap_or(i64::MAX));
        let seen = self.evictions_seen.swap(evictions_total, Ordering::Relaxed);
        self.profile_evictions
            .inc_by(evictions_total.saturating_sub(seen));
        sightline_service::metrics::render(&self.registry)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
