//! Where records go once a request is accepted.
//!
//! The HTTP layer only knows [`Sink`]: "make these records durable, tell me when they
//! are". Today that is [`kafka::KafkaSink`] (durable = acknowledged by all in-sync
//! replicas). The durable spool planned in issue 8 slots in as another `Sink` that
//! wraps the Kafka one — `deliver` tries Kafka and, when Kafka is unreachable or its
//! queue is above the high-water mark, appends to a write-ahead log and resolves after
//! fsync; a replayer drains the log into the inner sink. Neither the router nor the
//! HTTP layer changes for that: they see one `Sink`.

pub mod kafka;
pub mod memory;

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;

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
    /// Protobuf message name, e.g. `sightline.v1.CollectedEvent`.
    pub schema: &'static str,
    /// Event kind in snake case, e.g. `click` (`unspecified` when missing).
    pub kind: &'static str,
    pub site: String,
}

impl RecordHeaders {
    pub const SCHEMA: &'static str = "schema";
    pub const KIND: &'static str = "kind";
    pub const SITE: &'static str = "site";
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Bounded buffer is full: shed load (503 + Retry-After) rather than grow.
    #[error("producer queue is full")]
    QueueFull,
    #[error("delivery failed: {0}")]
    Delivery(String),
}

/// What `/readyz` and the queue-depth gauge need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkHealth {
    /// The destination answered its last probe.
    pub reachable: bool,
    /// Records buffered but not yet acknowledged.
    pub queue_depth: u64,
    /// Depth above which the sink counts as not ready.
    pub high_water: u64,
}

impl SinkHealth {
    pub fn ready(&self) -> bool {
        self.reachable && self.queue_depth <= self.high_water
    }
}

/// A destination that acknowledges records durably.
pub trait Sink: Send + Sync + 'static {
    /// Resolves `Ok` only once every record is durable. On `Err`, some records may
    /// still be delivered (the client retries: at-least-once, consumers deduplicate by
    /// event id).
    fn deliver(&self, records: Vec<Record>) -> BoxFuture<'_, Result<(), SinkError>>;

    fn health(&self) -> SinkHealth;

    /// Waits until everything handed over so far is delivered, at most `timeout`.
    fn flush(&self, timeout: Duration) -> BoxFuture<'_, Result<(), SinkError>>;
}
