//! The durable spool: a write-ahead log in front of Kafka.
//!
//! [`SpoolSink`] wraps the Kafka sink. While Kafka is healthy and the spool is empty,
//! records go straight to Kafka (the request waits for the broker's acks). When Kafka
//! is unreachable, its producer queue is above the high-water mark, or it does not
//! acknowledge within `spool.direct_timeout_ms`, the request's records are appended to
//! the spool instead and the request is answered once they are fsynced (group commit:
//! one fsync covers every append waiting at that moment). While the spool holds
//! records, new records are appended behind them, so a user's events reach Kafka in the
//! order they were accepted. The replayer drains the spool oldest first and deletes a
//! segment only when every record in it was acknowledged; it resumes from the segment
//! files after a restart.
//!
//! Modules: [`codec`] (frame format, tolerant reader), [`index`] (segments on disk,
//! start-up scan), [`writer`] (group-commit thread), [`replay`], [`metrics`].

pub mod codec;
pub mod index;
pub mod metrics;
pub mod replay;
pub mod writer;

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, oneshot};

use self::{
    index::Shared,
    metrics::{SpoolMetrics, fallback},
    writer::{AppendError, Command, Writer, WriterConfig},
};
use super::{Record, Sink, SinkError, SinkHealth, SpoolHealth};
use crate::config::SpoolConfig;

#[derive(Debug, thiserror::Error)]
pub enum SpoolOpenError {
    #[error("cannot open spool directory {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "spool directory {0} is in use by another collector process (each needs its own directory)"
    )]
    Locked(PathBuf),
    #[error("cannot start the spool writer thread: {0}")]
    Thread(std::io::Error),
}

pub struct SpoolSink {
    inner: Arc<dyn Sink>,
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    writer: Mutex<Option<JoinHandle<()>>>,
    replayer: tokio::task::JoinHandle<()>,
    direct_timeout: Duration,
    max_bytes: u64,
    ready_max_bytes: u64,
    /// Held for the life of the process: an advisory lock, released by the kernel even
    /// on SIGKILL, so a second collector cannot share the directory.
    _lock: File,
}

impl SpoolSink {
    /// Opens (or creates) the spool directory, scans existing segments and starts the
    /// writer thread and the replayer task (which drains into `inner`). Must be called
    /// inside a tokio runtime.
    pub fn open(config: &SpoolConfig, inner: Arc<dyn Sink>) -> Result<Self, SpoolOpenError> {
        let dir_error = |source| SpoolOpenError::Dir {
            dir: config.dir.clone(),
            source,
        };
        std::fs::create_dir_all(&config.dir).map_err(dir_error)?;
        let lock = lock_dir(&config.dir)?;
        let started = Instant::now();
        let index = index::scan_dir(&config.dir).map_err(dir_error)?;
        tracing::info!(
            dir = %config.dir.display(),
            segments = index.segments.len(),
            records = index.records,
            bytes = index.bytes,
            took_ms = started.elapsed().as_millis() as u64,
            "spool opened"
        );
        let shared = Arc::new(Shared::new(
            config.dir.clone(),
            index,
            SpoolMetrics::default(),
        ));
        let (commands, receiver) = mpsc::channel(config.append_queue.max(1));
        let writer = Writer::new(
            shared.clone(),
            WriterConfig {
                max_bytes: config.max_bytes,
                segment_bytes: config.segment_bytes,
            },
        );
        let writer = std::thread::Builder::new()
            .name("spool-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(SpoolOpenError::Thread)?;
        let replayer = tokio::spawn(replay::run(
            shared.clone(),
            inner.clone(),
            commands.clone(),
            replay::ReplayConfig {
                batch_records: config.replay_batch_records.max(1),
                backoff_min: Duration::from_millis(100),
                backoff_max: Duration::from_millis(config.replay_backoff_max_ms.max(100)),
            },
        ));
        Ok(Self {
            inner,
            shared,
            commands,
            writer: Mutex::new(Some(writer)),
            replayer,
            direct_timeout: Duration::from_millis(config.direct_timeout_ms.max(1)),
            max_bytes: config.max_bytes,
            ready_max_bytes: config.max_bytes / 100 * u64::from(config.ready_max_pct),
            _lock: lock,
        })
    }

    /// Appends the frames and waits for their fsync.
    async fn append(&self, frames: Vec<u8>, records: u64) -> Result<(), SinkError> {
        let (done, answer) = oneshot::channel();
        let command = Command::Append {
            frames,
            records,
            queued_at: Instant::now(),
            done,
        };
        self.commands
            .send(command)
            .await
            .map_err(|_| SinkError::Delivery(AppendError::Stopped.to_string()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(AppendError::Full { .. })) => Err(SinkError::SpoolFull),
            Ok(Err(err)) => Err(SinkError::Delivery(err.to_string())),
            Err(_) => Err(SinkError::Delivery(AppendError::Stopped.to_string())),
        }
    }

    /// Why this request must go to the spool, or `None` to try Kafka first.
    fn spool_reason(&self) -> Option<&'static str> {
        if self.shared.is_spooling() {
            return Some(fallback::SPOOLING);
        }
        let health = self.inner.health();
        if !health.reachable {
            Some(fallback::UNREACHABLE)
        } else if health.queue_depth > health.high_water {
            Some(fallback::QUEUE_HIGH)
        } else {
            None
        }
    }

    fn is_empty(&self) -> bool {
        self.shared.lock().segments.is_empty()
    }
}

/// Takes an exclusive advisory lock on `<dir>/LOCK`.
fn lock_dir(dir: &Path) -> Result<File, SpoolOpenError> {
    use std::os::fd::AsRawFd;
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| SpoolOpenError::Dir {
            dir: dir.to_owned(),
            source,
        })?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(SpoolOpenError::Locked(dir.to_owned()));
    }
    Ok(file)
}

impl Sink for SpoolSink {
    fn deliver<'a>(&'a self, records: &'a [Record]) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let count = records.len() as u64;
            let reason = match self.spool_reason() {
                Some(reason) => reason,
                None => {
                    match tokio::time::timeout(self.direct_timeout, self.inner.deliver(records))
                        .await
                    {
                        Ok(Ok(())) => return Ok(()),
                        // Records that did reach Kafka are spooled again: a duplicate,
                        // never a loss (consumers deduplicate by event id).
                        Ok(Err(_)) => fallback::ERROR,
                        Err(_) => fallback::TIMEOUT,
                    }
                }
            };
            self.shared.metrics.count_fallback(reason);
            // Framed only now: on the direct path (the common case) the records never
            // touch the spool. The records are borrowed, so a failed or timed-out
            // attempt still has them.
            self.append(codec::encode_frames(records), count).await
        })
    }

    fn health(&self) -> SinkHealth {
        let inner = self.inner.health();
        let index = self.shared.lock();
        SinkHealth {
            spool: Some(SpoolHealth {
                bytes: index.bytes,
                records: index.records,
                max_bytes: self.max_bytes,
                ready_max_bytes: self.ready_max_bytes,
            }),
            ..inner
        }
    }

    fn flush(&self, timeout: Duration) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            let deadline = Instant::now() + timeout;
            // Give the replayer the flush time to empty the spool while Kafka is up;
            // what remains is durable on disk and replayed at the next start.
            while !self.is_empty() && Instant::now() < deadline {
                if !self.inner.health().reachable {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            self.replayer.abort();
            let left = self.shared.lock().records;
            if left > 0 {
                tracing::warn!(
                    records = left,
                    dir = %self.shared.dir.display(),
                    "spool not empty at shutdown; it will be replayed at the next start"
                );
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let Err(err) = self.inner.flush(remaining).await {
                // Every answered request is acknowledged by Kafka or fsynced in the
                // spool, so an unflushed producer loses nothing that was promised.
                tracing::warn!(%err, "producer flush incomplete at shutdown");
            }
            let _ = self.commands.send(Command::Stop).await;
            let handle = self.writer.lock().ok().and_then(|mut w| w.take());
            if let Some(handle) = handle {
                let _ = tokio::task::spawn_blocking(move || handle.join()).await;
            }
            Ok(())
        })
    }

    fn register_metrics(&self, registry: &mut Registry) {
        self.shared.metrics.register(registry);
    }
}

impl Drop for SpoolSink {
    fn drop(&mut self) {
        self.replayer.abort();
    }
}

#[cfg(test)]
mod tests;
