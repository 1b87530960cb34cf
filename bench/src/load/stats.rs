//! What each connection measured, and the merged report.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;

use crate::results::Latency;
pub use crate::results::LoadReport;

/// Highest latency the histogram holds exactly; longer ones are clamped to it (requests
/// time out well before).
const MAX_LATENCY_US: u64 = 120_000_000;

/// Counters of one connection (merged at the end, so no locking while running).
pub struct WorkerStats {
    pub latency_us: Histogram<u64>,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub events_ok: u64,
    pub events_accepted: u64,
    pub events_rejected: u64,
    pub body_bytes: u64,
    pub errors: BTreeMap<String, u64>,
}

impl WorkerStats {
    pub fn new() -> Self {
        Self {
            // 3 significant digits: 0.1 % resolution at any scale.
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("constant histogram bounds are valid"),
            requests_ok: 0,
            requests_failed: 0,
            events_ok: 0,
            events_accepted: 0,
            events_rejected: 0,
            body_bytes: 0,
            errors: BTreeMap::new(),
        }
    }

    pub fn record_latency(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(MAX_LATENCY_US);
        self.latency_us
            .saturating_record(us.clamp(1, MAX_LATENCY_US));
    }

    pub fn error(&mut self, label: impl Into<String>) {
        self.requests_failed += 1;
        *self.errors.entry(label.into()).or_default() += 1;
    }

    pub fn merge(&mut self, other: WorkerStats) {
        // Same bounds on both sides, so adding cannot fail; keep going if it ever did.
        let _ = self.latency_us.add(&other.latency_us);
        self.requests_ok += other.requests_ok;
        self.requests_failed += other.requests_failed;
        self.events_ok += other.events_ok;
        self.events_accepted += other.events_accepted;
        self.events_rejected += other.events_rejected;
        self.body_bytes += other.body_bytes;
        for (label, count) in other.errors {
            *self.errors.entry(label).or_default() += count;
        }
    }
}

impl Default for WorkerStats {
    fn default() -> Self {
        Self::new()
    }
}

/// Percentiles of a microsecond histogram, in milliseconds.
pub fn latency_summary(h: &Histogram<u64>) -> Latency {
    let ms = |us: u64| us as f64 / 1000.0;
    if h.is_empty() {
        return Latency::default();
    }
    Latency {
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        mean_ms: h.mean() / 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_percentiles_reflect_both_workers() {
        let mut a = WorkerStats::new();
        let mut b = WorkerStats::new();
        for _ in 0..99 {
            a.record_latency(Duration::from_millis(1));
        }
        b.record_latency(Duration::from_millis(500));
        b.error("503");
        a.merge(b);
        let l = latency_summary(&a.latency_us);
        assert!((0.99..1.01).contains(&l.p50_ms), "{l:?}");
        assert!((499.0..501.0).contains(&l.max_ms), "{l:?}");
        assert_eq!(a.errors.get("503"), Some(&1));
        assert_eq!(a.requests_failed, 1);
    }
}
