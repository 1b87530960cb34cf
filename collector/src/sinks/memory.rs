//! An in-memory [`Sink`] for unit tests and `--check-config`-free experiments.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::future::BoxFuture;

use super::{Record, Sink, SinkError, SinkHealth};

/// Keeps delivered records; can be told to fail, to test the 503 path.
#[derive(Default, Clone)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<Record>>>,
    failing: Arc<AtomicBool>,
}

impl MemorySink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record delivered so far.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// While set, `deliver` fails with `QueueFull` and stores nothing.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl Sink for MemorySink {
    fn deliver<'a>(&'a self, records: &'a [Record]) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if self.failing.load(Ordering::SeqCst) {
                return Err(SinkError::QueueFull);
            }
            let mut stored = self
                .records
                .lock()
                .map_err(|_| SinkError::Delivery("memory sink poisoned".into()))?;
            stored.extend_from_slice(records);
            Ok(())
        })
    }

    fn health(&self) -> SinkHealth {
        SinkHealth {
            reachable: !self.failing.load(Ordering::SeqCst),
            queue_depth: 0,
            high_water: 0,
            spool: None,
        }
    }

    fn flush(&self, _timeout: Duration) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async { Ok(()) })
    }
}
