//! What is on disk: the list of segments (oldest first), shared by the writer thread,
//! the replayer and the request path, plus the directory scan at start-up.

use std::{
    collections::VecDeque,
    fs,
    io::{self, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::sync::Notify;

use super::{codec, metrics::SpoolMetrics};
use crate::sinks::Record;

const SEGMENT_SUFFIX: &str = ".seg";

/// One segment file `<id:020>.seg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: u64,
    /// Bytes written and fsynced; the replayer never reads past this.
    pub committed: u64,
    /// The writer no longer appends to it.
    pub sealed: bool,
}

#[derive(Debug, Default)]
pub struct Index {
    pub segments: VecDeque<Segment>,
    /// Committed bytes of all segments on disk.
    pub bytes: u64,
    /// Records on disk not yet acknowledged by the inner sink.
    pub records: u64,
    pub next_id: u64,
}

/// State shared by the request path, the writer thread and the replayer.
pub struct Shared {
    pub dir: PathBuf,
    index: Mutex<Index>,
    /// While true, new records go to the spool even if Kafka is healthy, so records of
    /// one user are not overtaken by newer ones (see the README's "Ordering").
    pub spooling: AtomicBool,
    /// The writer committed new bytes (wakes the replayer).
    pub appended: Notify,
    pub metrics: SpoolMetrics,
}

impl Shared {
    pub fn new(dir: PathBuf, index: Index, metrics: SpoolMetrics) -> Self {
        let spooling = !index.segments.is_empty();
        let shared = Self {
            dir,
            index: Mutex::new(index),
            spooling: AtomicBool::new(spooling),
            appended: Notify::new(),
            metrics,
        };
        shared.publish(&shared.lock());
        shared
    }

    /// The index lock. A panic while holding it cannot leave the index half-updated in
    /// a way that loses data (files are the truth), so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn segment_path(&self, id: u64) -> PathBuf {
        segment_path(&self.dir, id)
    }

    /// Copies the index into the gauges (call with the lock held, after a change).
    pub fn publish(&self, index: &Index) {
        let m = &self.metrics;
        m.bytes.set(gauge(index.bytes));
        m.records.set(gauge(index.records));
        m.segments.set(gauge(index.segments.len() as u64));
    }

    pub fn is_spooling(&self) -> bool {
        self.spooling.load(Ordering::SeqCst)
    }
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}{SEGMENT_SUFFIX}"))
}

fn segment_id(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_suffix(SEGMENT_SUFFIX)?
        .parse()
        .ok()
}

/// Makes a directory entry change (create, delete) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Read window of the segment reader; grows when one frame is larger.
const READ_WINDOW: usize = 1024 * 1024;

/// Records read from a segment between two offsets.
#[derive(Debug, Default)]
pub struct Chunk {
    pub records: Vec<Record>,
    pub corrupt: u64,
    /// Bytes of the segment this chunk covered (the caller advances by this).
    pub consumed: u64,
}

/// Reads up to `max_records` records of segment `path` starting at `from`, never past
/// `until`. Everything up to `until` is complete data, so a frame cut there is a torn
/// tail (only possible after a crash) and counted as corrupt.
pub fn read_chunk(path: &Path, from: u64, until: u64, max_records: usize) -> io::Result<Chunk> {
    let mut file = fs::File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let remaining = until.saturating_sub(from);
    let mut window = READ_WINDOW;
    loop {
        let want = remaining.min(window as u64);
        let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(READ_WINDOW));
        (&mut file).take(want).read_to_end(&mut buf)?;
        // A file shorter than the index says (truncated behind our back) ends here.
        let at_end = (buf.len() as u64) < want || want == remaining;
        let scan = codec::scan_limited(&buf, at_end, max_records);
        if scan.consumed == 0 && scan.needed > 0 && !at_end {
            // One frame bigger than the window: read again with room for it.
            window = window.saturating_add(scan.needed);
            file.seek(SeekFrom::Start(from))?;
            continue;
        }
        return Ok(Chunk {
            records: scan.records,
            corrupt: scan.corrupt,
            consumed: scan.consumed as u64,
        });
    }
}

/// Opens (creating) the spool directory and lists its segments oldest first, counting
/// their readable records. Every existing segment is sealed: a restarted writer starts
/// a new one rather than appending after a possibly torn tail. Empty files are removed.
pub fn scan_dir(dir: &Path) -> io::Result<Index> {
    fs::create_dir_all(dir)?;
    let mut ids: Vec<u64> = fs::read_dir(dir)?
        .filter_map(|entry| segment_id(&entry.ok()?.path()))
        .collect();
    ids.sort_unstable();
    let mut index = Index {
        next_id: ids.last().map_or(1, |last| last + 1),
        ..Index::default()
    };
    for id in ids {
        let path = segment_path(dir, id);
        let len = fs::metadata(&path)?.len();
        if len == 0 {
            fs::remove_file(&path)?;
            continue;
        }
        let mut offset = 0;
        while offset < len {
            let chunk = read_chunk(&path, offset, len, usize::MAX)?;
            index.records += chunk.records.len() as u64;
            if chunk.consumed == 0 {
                break;
            }
            offset += chunk.consumed;
        }
        index.bytes += len;
        index.segments.push_back(Segment {
            id,
            committed: len,
            sealed: true,
        });
    }
    sync_dir(dir)?;
    Ok(index)
}
