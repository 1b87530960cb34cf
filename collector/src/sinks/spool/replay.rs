//! The replayer: drains the spool into the inner sink (Kafka), oldest segment first,
//! and deletes a segment only after every record in it was acknowledged.

use std::{sync::Arc, time::Duration};

use tokio::sync::{mpsc, oneshot};

use super::{
    index::{Shared, read_chunk},
    writer::Command,
};
use crate::sinks::Sink;

pub struct ReplayConfig {
    pub batch_records: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

/// Where the replayer is: every record of `segment` before `offset` is acknowledged.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    segment: u64,
    offset: u64,
}

/// How long to wait for new data when everything is replayed (a missed wake-up costs
/// at most this).
const IDLE_POLL: Duration = Duration::from_millis(200);

pub async fn run(
    shared: Arc<Shared>,
    inner: Arc<dyn Sink>,
    writer: mpsc::Sender<Command>,
    config: ReplayConfig,
) {
    let mut position = Position::default();
    let mut backoff = config.backoff_min;
    loop {
        let front = shared.lock().segments.front().cloned();
        let Some(segment) = front else {
            let _ = tokio::time::timeout(IDLE_POLL, shared.appended.notified()).await;
            continue;
        };
        if position.segment != segment.id {
            position = Position {
                segment: segment.id,
                offset: 0,
            };
        }
        if position.offset >= segment.committed {
            if segment.sealed {
                delete_sealed(&shared, segment.id).await;
            } else if !retire_active(&writer, position).await {
                // New appends since: keep reading after a short wait for them.
                let _ = tokio::time::timeout(IDLE_POLL, shared.appended.notified()).await;
            }
            continue;
        }
        if !inner.health().reachable {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(config.backoff_max);
            continue;
        }
        let path = shared.segment_path(segment.id);
        let (from, until, max) = (position.offset, segment.committed, config.batch_records);
        let chunk = match tokio::task::spawn_blocking(move || read_chunk(&path, from, until, max))
            .await
        {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(err)) => {
                // Unreadable segment (deleted or I/O error): nothing more can be had
                // from it; count it and move on rather than loop forever.
                tracing::error!(%err, segment = segment.id, "cannot read spool segment; skipping it");
                shared.metrics.corrupt_records.inc();
                skip_rest(&shared, &mut position, segment.committed);
                continue;
            }
            Err(err) => {
                tracing::error!(%err, "spool reader task failed");
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        if chunk.corrupt > 0 {
            tracing::warn!(
                segment = segment.id,
                offset = position.offset,
                corrupt = chunk.corrupt,
                "skipping corrupt spool records"
            );
            shared.metrics.corrupt_records.inc_by(chunk.corrupt);
        }
        if chunk.consumed == 0 {
            // The file ends before its committed length (cut behind our back).
            tracing::error!(
                segment = segment.id,
                "spool segment shorter than recorded; skipping its rest"
            );
            shared.metrics.corrupt_records.inc();
            skip_rest(&shared, &mut position, segment.committed);
            continue;
        }
        let count = chunk.records.len() as u64;
        if count > 0 {
            if let Err(err) = inner.deliver(&chunk.records).await {
                shared.metrics.replay_failures.inc();
                tracing::warn!(%err, ?backoff, "spool replay not acknowledged; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(config.backoff_max);
                continue;
            }
        }
        backoff = config.backoff_min;
        position.offset = (position.offset + chunk.consumed).min(segment.committed);
        shared.metrics.replayed_records.inc_by(count);
        let mut index = shared.lock();
        index.records = index.records.saturating_sub(count);
        shared.publish(&index);
    }
}

fn skip_rest(shared: &Shared, position: &mut Position, committed: u64) {
    position.offset = committed;
    shared.publish(&shared.lock());
}

/// A sealed segment is never written again: delete it once fully replayed.
async fn delete_sealed(shared: &Arc<Shared>, id: u64) {
    let path = shared.segment_path(id);
    let dir = shared.dir.clone();
    let removed = tokio::task::spawn_blocking(move || {
        std::fs::remove_file(&path).and_then(|()| super::index::sync_dir(&dir))
    })
    .await;
    if let Ok(Err(err)) = &removed {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(%err, segment = id, "cannot delete a replayed spool segment");
        }
    }
    let mut index = shared.lock();
    if let Some(pos) = index.segments.iter().position(|s| s.id == id) {
        if let Some(segment) = index.segments.remove(pos) {
            index.bytes = index.bytes.saturating_sub(segment.committed);
        }
    }
    shared.publish(&index);
}

/// Asks the writer to delete the fully replayed active segment (only it may, since it
/// holds the file open); true when it did.
async fn retire_active(writer: &mpsc::Sender<Command>, position: Position) -> bool {
    let (done, answer) = oneshot::channel();
    let command = Command::Retire {
        segment: position.segment,
        offset: position.offset,
        done,
    };
    if writer.send(command).await.is_err() {
        return false;
    }
    answer.await.unwrap_or(false)
}
