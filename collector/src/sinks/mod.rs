//! Where records go once a request is accepted.
//!
//! The HTTP layer only knows [`Sink`]: "make these records durable, tell me when they
//! are". [`kafka::KafkaSink`]: durable = acknowledged by all in-sync replicas.
//! [`spool::SpoolSink`] wraps it: `deliver` tries Kafka and, when Kafka is unreachable,
//! slow or its queue is above the high-water mark, appends to a write-ahead log and
//! resolves after fsync; a replayer drains the log into the inner sink. Neither the
//! router nor the HTTP layer knows which one they talk to.

pub mod kafka;
pub mod memory;
pub mod spool;

use std::{borrow::Cow, sync::Arc, time::Duration};

use futures::future::BoxFuture;
use prometheus_client::registry::Registry;

/// One Kafka record, independent of the client library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: Arc<str>,
    /// `None` spreads records over partitions (hot-user overflow).
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub headers: RecordHeaders,
}

/// Headers on every record, so consumers can route without decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHeaders {
    /// Protobuf message name, e.g. `sightline.v1.CollectedEvent`. Borrowed on the
    /// request path; owned when a record is read back from the spool.
    pub schema: Cow<'static, str>,
    /// Event kind in snake case, e.g. `click` (`unspecified` when missing).
    pub kind: Cow<'static, str>,
    pub site: String,
    /// `sightline-layout`: `delimited-v2` on v2 records (several length-delimited
    /// events); absent on v1 records (one event) and dead letters.
    pub layout: Option<Cow<'static, str>>,
}

impl RecordHeaders {
    pub const SCHEMA: &'static str = "schema";
    /// On a v2 record, every kind in it, comma separated.
    pub const KIND: &'static str = "kind";
    pub const SITE: &'static str = "site";
    pub const LAYOUT: &'static str = sightline_proto::record::LAYOUT_HEADER;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Bounded buffer is full: shed load (503 + Retry-After) rather than grow.
    #[error("producer queue is full")]
    QueueFull,
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// The durable spool reached its byte cap: shed load (503 + Retry-After).
    #[error("spool is full")]
    SpoolFull,
}

/// What `/readyz` and the health gauges (queue depth, Kafka reachable) need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkHealth {
    /// The destination answered its last probe.
    pub reachable: bool,
    /// Records buffered but not yet acknowledged.
    pub queue_depth: u64,
    /// Depth above which the sink counts as not ready.
    pub high_water: u64,
    /// Present when a durable spool backs the sink.
    pub spool: Option<SpoolHealth>,
}

/// Depth of the durable spool, for `/readyz` and the gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolHealth {
    pub bytes: u64,
    pub records: u64,
    /// `spool.max_bytes`: appends beyond are refused (503).
    pub max_bytes: u64,
    /// Above this many bytes `/readyz` answers 503 (`spool.ready_max_pct`).
    pub ready_max_bytes: u64,
}

impl SinkHealth {
    /// Whether new records can be made durable right now. With a spool, Kafka trouble
    /// does not matter until the spool nears its cap.
    pub fn ready(&self) -> bool {
        match self.spool {
            Some(spool) => spool.bytes <= spool.ready_max_bytes,
            None => self.reachable && self.queue_depth <= self.high_water,
        }
    }
}

/// A destination that acknowledges records durably.
pub trait Sink: Send + Sync + 'static {
    /// Resolves `Ok` only once every record is durable. On `Err`, some records may
    /// still be delivered (the client retries: at-least-once, consumers deduplicate by
    /// event id). Borrowed, so a caller still has the records when delivery fails or
    /// times out (the spool then appends them) without copying them up front.
    fn deliver<'a>(&'a self, records: &'a [Record]) -> BoxFuture<'a, Result<(), SinkError>>;

    fn health(&self) -> SinkHealth;

    /// Waits until everything handed over so far is delivered, at most `timeout`.
    fn flush(&self, timeout: Duration) -> BoxFuture<'_, Result<(), SinkError>>;

    /// Adds the sink's own metrics to the collector's registry (default: none).
    fn register_metrics(&self, _registry: &mut Registry) {}
}
