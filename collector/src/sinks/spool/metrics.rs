//! The spool's Prometheus metrics (registered under `sightline_collector_spool_*`).

use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::metrics::ReasonLabel;

/// Why a request's records went to the spool instead of straight to Kafka.
pub mod fallback {
    /// The spool still holds records: keep order, append behind them.
    pub const SPOOLING: &str = "spooling";
    /// The last broker probe failed.
    pub const UNREACHABLE: &str = "kafka_unreachable";
    /// The producer queue is above its high-water mark.
    pub const QUEUE_HIGH: &str = "queue_above_high_water";
    /// Kafka did not acknowledge within `spool.direct_timeout_ms`.
    pub const TIMEOUT: &str = "ack_timeout";
    /// Kafka refused or failed the records.
    pub const ERROR: &str = "kafka_error";
}

#[derive(Clone)]
pub struct SpoolMetrics {
    pub bytes: Gauge,
    pub records: Gauge,
    pub segments: Gauge,
    pub appends: Counter,
    pub appended_records: Counter,
    pub fsyncs: Counter,
    pub append_latency: Histogram,
    pub fallbacks: Family<ReasonLabel, Counter>,
    pub full: Counter,
    pub replayed_records: Counter,
    pub replay_failures: Counter,
    pub corrupt_records: Counter,
}

impl Default for SpoolMetrics {
    fn default() -> Self {
        Self {
            bytes: Gauge::default(),
            records: Gauge::default(),
            segments: Gauge::default(),
            appends: Counter::default(),
            appended_records: Counter::default(),
            fsyncs: Counter::default(),
            // 0.1 ms .. ~3 s
            append_latency: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
            fallbacks: Family::default(),
            full: Counter::default(),
            replayed_records: Counter::default(),
            replay_failures: Counter::default(),
            corrupt_records: Counter::default(),
        }
    }
}

impl SpoolMetrics {
    pub fn count_fallback(&self, reason: &str) {
        self.fallbacks
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        let r = registry;
        r.register(
            "spool_bytes",
            "Bytes of spool segments on disk",
            self.bytes.clone(),
        );
        r.register(
            "spool_records",
            "Spooled records not yet acknowledged by Kafka",
            self.records.clone(),
        );
        r.register(
            "spool_segments",
            "Spool segment files on disk",
            self.segments.clone(),
        );
        r.register(
            "spool_appends",
            "Requests whose records were appended (and fsynced) to the spool",
            self.appends.clone(),
        );
        r.register(
            "spool_appended_records",
            "Records appended to the spool",
            self.appended_records.clone(),
        );
        r.register(
            "spool_fsyncs",
            "Writer fsyncs; `appends / fsyncs` is the group-commit factor",
            self.fsyncs.clone(),
        );
        r.register(
            "spool_append_latency_seconds",
            "From handing records to the spool writer until they were fsynced",
            self.append_latency.clone(),
        );
        r.register(
            "spool_fallbacks",
            "Why a request went to the spool, by reason: `spooling`, `kafka_unreachable`, \
             `queue_above_high_water`, `ack_timeout`, `kafka_error`",
            self.fallbacks.clone(),
        );
        r.register(
            "spool_full",
            "Appends refused at `spool.max_bytes`",
            self.full.clone(),
        );
        r.register(
            "spool_replayed_records",
            "Spooled records acknowledged by Kafka",
            self.replayed_records.clone(),
        );
        r.register(
            "spool_replay_failures",
            "Replay steps Kafka did not acknowledge (retried; may duplicate)",
            self.replay_failures.clone(),
        );
        r.register(
            "spool_corrupt_records",
            "Torn or corrupt records found by CRC and skipped",
            self.corrupt_records.clone(),
        );
    }
}

#[cfg(test)]
impl SpoolMetrics {
    /// One series in every labelled family (see `Metrics::touch_every_family`).
    pub(crate) fn touch_every_family(&self) {
        let _ = self.fallbacks.get_or_create(&Default::default());
    }
}
