//! The spool against the in-memory sink: direct path, spooling, replay in order,
//! restart, torn tails, the byte cap, group commit and the directory lock.

use std::{io::Write, sync::Arc, time::Duration};

use super::*;
use crate::sinks::{RecordHeaders, memory::MemorySink};

fn config(dir: &Path) -> SpoolConfig {
    SpoolConfig {
        dir: dir.to_owned(),
        segment_bytes: 4096,
        max_bytes: 1024 * 1024,
        ..SpoolConfig::default()
    }
}

fn record(i: usize) -> Record {
    Record {
        topic: "sightline.clicks".into(),
        key: Some(format!("user-{}", i % 4)),
        payload: format!("event-{i}").into_bytes(),
        headers: RecordHeaders {
            schema: "sightline.v1.CollectedEvent".into(),
            kind: "click".into(),
            site: "demo".into(),
            layout: (i % 2 == 0).then_some(sightline_proto::record::LAYOUT_DELIMITED_V2.into()),
        },
    }
}

fn payloads(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.payload).into_owned())
        .collect()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

fn segment_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "seg"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn healthy_inner_sink_is_used_directly() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    let spool = SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap();
    spool
        .deliver(&(0..3).map(record).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(inner.records().len(), 3);
    assert_eq!(segment_files(dir.path()), 0);
    assert!(spool.health().spool.is_some_and(|s| s.bytes == 0));
}

#[tokio::test]
async fn outage_spools_then_replays_everything_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    inner.set_failing(true);
    let spool = SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap();
    for chunk in 0..20 {
        let records: Vec<Record> = (chunk * 10..chunk * 10 + 10).map(record).collect();
        spool.deliver(&records).await.unwrap();
    }
    let health = spool.health().spool.unwrap();
    assert_eq!(health.records, 200);
    assert!(health.bytes > 4096, "several segments were written");
    assert!(segment_files(dir.path()) > 1);
    assert!(inner.records().is_empty());
    // While the spool holds records, new ones queue behind them even with Kafka back.
    inner.set_failing(false);
    spool.deliver(&[record(200)]).await.unwrap();
    wait_until("the spool is drained", || spool.is_empty()).await;
    let expected: Vec<String> = (0..=200).map(|i| format!("event-{i}")).collect();
    assert_eq!(payloads(&inner.records()), expected);
    assert_eq!(inner.records()[0], record(0), "replay is exact");
    assert_eq!(
        segment_files(dir.path()),
        0,
        "replayed segments are deleted"
    );
    assert!(!spool.shared.is_spooling());
    spool.deliver(&[record(201)]).await.unwrap();
    assert_eq!(inner.records().len(), 202, "direct again once drained");
}

#[tokio::test]
async fn a_restart_replays_what_a_crash_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    inner.set_failing(true);
    {
        let spool = SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap();
        for i in 0..50 {
            spool.deliver(&[record(i)]).await.unwrap();
        }
        // Dropped without flush: as if the process died.
    }
    let inner = MemorySink::new();
    let spool = SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap();
    assert_eq!(spool.health().spool.unwrap().records, 50);
    assert!(spool.shared.is_spooling());
    wait_until("the spool is drained", || spool.is_empty()).await;
    let expected: Vec<String> = (0..50).map(|i| format!("event-{i}")).collect();
    assert_eq!(payloads(&inner.records()), expected);
}

#[tokio::test]
async fn a_torn_tail_is_counted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let frames = codec::encode_frames(&(0..5).map(record).collect::<Vec<_>>());
    let mut file = std::fs::File::create(index::segment_path(dir.path(), 7)).unwrap();
    file.write_all(&frames).unwrap();
    file.write_all(&frames[..20]).unwrap(); // half of a sixth record
    drop(file);
    let inner = MemorySink::new();
    let spool = SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap();
    wait_until("the spool is drained", || spool.is_empty()).await;
    assert_eq!(inner.records().len(), 5);
    assert_eq!(spool.shared.metrics.corrupt_records.get(), 1);
    // The next segment continues the numbering after the old one.
    assert!(spool.shared.lock().next_id > 7);
}

#[tokio::test]
async fn the_byte_cap_refuses_with_spool_full() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    inner.set_failing(true);
    let mut cfg = config(dir.path());
    cfg.max_bytes = 4096;
    let spool = SpoolSink::open(&cfg, Arc::new(inner)).unwrap();
    let mut full = 0;
    for i in 0..200 {
        if spool.deliver(&[record(i)]).await == Err(SinkError::SpoolFull) {
            full += 1;
        }
    }
    assert!(full > 0, "the cap was reached");
    assert!(spool.health().spool.unwrap().bytes <= 4096);
    assert!(!spool.health().ready(), "not ready near the cap");
    assert_eq!(spool.shared.metrics.full.get(), full);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    inner.set_failing(true);
    let spool = Arc::new(SpoolSink::open(&config(dir.path()), Arc::new(inner)).unwrap());
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let spool = spool.clone();
            tokio::spawn(async move { spool.deliver(&[record(i)]).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let m = &spool.shared.metrics;
    assert_eq!(m.appends.get(), 400);
    assert!(
        m.fsyncs.get() < 400,
        "group commit: {} fsyncs for 400 appends",
        m.fsyncs.get()
    );
}

#[tokio::test]
async fn one_directory_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let first = SpoolSink::open(&config(dir.path()), Arc::new(MemorySink::new())).unwrap();
    let second = SpoolSink::open(&config(dir.path()), Arc::new(MemorySink::new()));
    assert!(matches!(second, Err(SpoolOpenError::Locked(_))));
    drop(first);
}

#[tokio::test]
async fn flush_drains_when_the_inner_sink_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    inner.set_failing(true);
    let spool = SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap();
    for i in 0..30 {
        spool.deliver(&[record(i)]).await.unwrap();
    }
    inner.set_failing(false);
    spool.flush(Duration::from_secs(10)).await.unwrap();
    assert_eq!(inner.records().len(), 30);
    assert_eq!(segment_files(dir.path()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_does_not_keep_the_spool_busy_forever() {
    let dir = tempfile::tempdir().unwrap();
    let inner = MemorySink::new();
    inner.set_failing(true);
    let spool = Arc::new(SpoolSink::open(&config(dir.path()), Arc::new(inner.clone())).unwrap());
    for i in 0..100 {
        spool.deliver(&[record(i)]).await.unwrap();
    }
    inner.set_failing(false);
    // Appends keep coming while the replayer catches up: it must hand back to the
    // direct path rather than chase the writer.
    let sender = {
        let spool = spool.clone();
        tokio::spawn(async move {
            for i in 100..2_000 {
                spool.deliver(&[record(i)]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    wait_until("the direct path is back under load", || {
        !spool.shared.is_spooling()
    })
    .await;
    assert!(
        !sender.is_finished(),
        "handed over while load was still running"
    );
    sender.await.unwrap();
    wait_until("the spool is drained", || spool.is_empty()).await;
    let mut seen: Vec<String> = payloads(&inner.records());
    assert_eq!(seen.len(), 2_000, "every record delivered once");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 2_000);
}
