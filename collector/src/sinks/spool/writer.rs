//! The spool writer: one OS thread owns the active segment and does group commit —
//! it takes every append waiting at that moment, writes them, and one `fdatasync`
//! makes them all durable before any of their requests is answered.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use tokio::sync::{mpsc, oneshot};

use super::index::{Segment, Shared, sync_dir};

/// Most commands handled by one commit (bounds one fsync's latency).
const MAX_GROUP: usize = 4096;
/// Un-replayed bytes below which the spool hands back to the direct path under load
/// (a few milliseconds of replay; records in it may be overtaken by that much).
const HANDOVER_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("spool is full ({bytes} of {max_bytes} bytes used)")]
    Full { bytes: u64, max_bytes: u64 },
    #[error("spool write failed: {0}")]
    Io(String),
    #[error("spool writer stopped")]
    Stopped,
}

pub enum Command {
    /// Append pre-encoded frames; answered once they are fsynced.
    Append {
        frames: Vec<u8>,
        records: u64,
        queued_at: Instant,
        done: oneshot::Sender<Result<(), AppendError>>,
    },
    /// The replayer acknowledged everything of segment `segment` up to `offset`. If
    /// that is still the active segment's end, delete it and leave spooling mode;
    /// answers whether it did.
    Retire {
        segment: u64,
        offset: u64,
        done: oneshot::Sender<bool>,
    },
    /// Finish and exit the thread.
    Stop,
}

pub struct WriterConfig {
    pub max_bytes: u64,
    pub segment_bytes: u64,
}

struct Active {
    id: u64,
    file: File,
    /// Bytes written (committed or about to be).
    written: u64,
    /// Bytes fsynced.
    committed: u64,
}

struct Pending {
    bytes: u64,
    records: u64,
    queued_at: Instant,
    done: oneshot::Sender<Result<(), AppendError>>,
}

pub struct Writer {
    shared: Arc<Shared>,
    config: WriterConfig,
    active: Option<Active>,
    pending: Vec<Pending>,
}

impl Writer {
    pub fn new(shared: Arc<Shared>, config: WriterConfig) -> Self {
        Self {
            shared,
            config,
            active: None,
            pending: Vec::new(),
        }
    }

    /// The thread body: runs until `Stop` or until every sender is gone.
    pub fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut group = Vec::with_capacity(64);
        while let Some(first) = commands.blocking_recv() {
            group.push(first);
            while group.len() < MAX_GROUP {
                match commands.try_recv() {
                    Ok(command) => group.push(command),
                    Err(_) => break,
                }
            }
            let mut stop = false;
            for command in group.drain(..) {
                match command {
                    Command::Append {
                        frames,
                        records,
                        queued_at,
                        done,
                    } => self.append(frames, records, queued_at, done),
                    Command::Retire {
                        segment,
                        offset,
                        done,
                    } => {
                        self.commit();
                        let _ = done.send(self.retire(segment, offset));
                    }
                    Command::Stop => stop = true,
                }
            }
            self.commit();
            if stop {
                break;
            }
        }
        self.commit();
    }

    fn append(
        &mut self,
        frames: Vec<u8>,
        records: u64,
        queued_at: Instant,
        done: oneshot::Sender<Result<(), AppendError>>,
    ) {
        let len = frames.len() as u64;
        let in_flight: u64 = self.pending.iter().map(|p| p.bytes).sum();
        let used = self.shared.lock().bytes + in_flight;
        if used + len > self.config.max_bytes {
            self.shared.metrics.full.inc();
            let _ = done.send(Err(AppendError::Full {
                bytes: used,
                max_bytes: self.config.max_bytes,
            }));
            return;
        }
        if self
            .active
            .as_ref()
            .is_some_and(|a| a.written > 0 && a.written + len > self.config.segment_bytes)
        {
            self.commit();
            self.seal();
        }
        if let Err(err) = self.write(&frames) {
            tracing::error!(%err, "spool write failed");
            let _ = done.send(Err(AppendError::Io(err.to_string())));
            self.fail_pending(&err);
            return;
        }
        self.pending.push(Pending {
            bytes: len,
            records,
            queued_at,
            done,
        });
    }

    fn write(&mut self, frames: &[u8]) -> io::Result<()> {
        if self.active.is_none() {
            self.active = Some(self.open_segment()?);
        }
        let Some(active) = self.active.as_mut() else {
            return Err(io::Error::other("no active segment"));
        };
        active.file.write_all(frames)?;
        active.written += frames.len() as u64;
        Ok(())
    }

    fn open_segment(&self) -> io::Result<Active> {
        let id = {
            let mut index = self.shared.lock();
            let id = index.next_id;
            index.next_id += 1;
            id
        };
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(self.shared.segment_path(id))?;
        sync_dir(&self.shared.dir)?;
        let mut index = self.shared.lock();
        index.segments.push_back(Segment {
            id,
            committed: 0,
            sealed: false,
        });
        self.shared.publish(&index);
        Ok(Active {
            id,
            file,
            written: 0,
            committed: 0,
        })
    }

    /// fsyncs what was written and answers every pending append.
    fn commit(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let Some(active) = self.active.as_mut() else {
            self.fail_pending(&io::Error::other("no active segment"));
            return;
        };
        if let Err(err) = active.file.sync_data() {
            // After a failed fsync the page cache state is unknown: never append to
            // this file again (its unconfirmed tail is at worst replayed as duplicates).
            tracing::error!(%err, "spool fsync failed");
            self.fail_pending(&err);
            return;
        }
        self.shared.metrics.fsyncs.inc();
        active.committed = active.written;
        let (bytes, records) = self
            .pending
            .iter()
            .fold((0, 0), |(b, r), p| (b + p.bytes, r + p.records));
        {
            let mut index = self.shared.lock();
            if let Some(segment) = index.segments.iter_mut().find(|s| s.id == active.id) {
                segment.committed = active.committed;
            }
            index.bytes += bytes;
            index.records += records;
            self.shared.spooling.store(true, Ordering::SeqCst);
            self.shared.publish(&index);
        }
        let m = &self.shared.metrics;
        m.appended_records.inc_by(records);
        for pending in self.pending.drain(..) {
            m.appends.inc();
            m.append_latency
                .observe(pending.queued_at.elapsed().as_secs_f64());
            let _ = pending.done.send(Ok(()));
        }
        self.shared.appended.notify_one();
    }

    /// Fails every uncommitted append and abandons the active segment at its last
    /// committed length.
    fn fail_pending(&mut self, err: &io::Error) {
        for pending in self.pending.drain(..) {
            let _ = pending.done.send(Err(AppendError::Io(err.to_string())));
        }
        if let Some(active) = self.active.as_ref() {
            // Best effort: cut the unconfirmed bytes so a restart does not replay them.
            let _ = active.file.set_len(active.committed);
        }
        self.seal();
    }

    /// Stops appending to the active segment; the next append opens a new one.
    fn seal(&mut self) {
        if let Some(active) = self.active.take() {
            let mut index = self.shared.lock();
            if let Some(segment) = index.segments.iter_mut().find(|s| s.id == active.id) {
                segment.sealed = true;
                segment.committed = active.committed;
            }
        }
    }

    fn retire(&mut self, segment: u64, offset: u64) -> bool {
        let Some(active) = self.active.as_ref() else {
            return false;
        };
        if active.id != segment {
            return false;
        }
        if active.committed != offset {
            // Under steady load appends keep arriving, so the replayer could chase the
            // writer forever. When it is this close, hand over: seal the segment (the
            // replayer finishes its short tail) and send new requests direct again.
            if active.committed - offset <= HANDOVER_BYTES {
                self.seal();
                self.shared.spooling.store(false, Ordering::SeqCst);
                return true;
            }
            return false;
        }
        let path = self.shared.segment_path(segment);
        self.active = None;
        if let Err(err) = fs::remove_file(&path).and_then(|()| sync_dir(&self.shared.dir)) {
            tracing::warn!(%err, path = %path.display(), "cannot delete a replayed spool segment");
        }
        let mut index = self.shared.lock();
        if let Some(pos) = index.segments.iter().position(|s| s.id == segment) {
            if let Some(removed) = index.segments.remove(pos) {
                index.bytes = index.bytes.saturating_sub(removed.committed);
            }
        }
        if index.segments.is_empty() {
            self.shared.spooling.store(false, Ordering::SeqCst);
        }
        self.shared.publish(&index);
        true
    }
}
