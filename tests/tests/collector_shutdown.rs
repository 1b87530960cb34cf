//! SIGTERM under load: readiness turns 503 first, in-flight requests finish, the
//! producer is flushed, and every event the collector acknowledged is in Kafka.
//!
//! Every step waits for a fact (events acknowledged, `/readyz` answering 503, a request
//! served after the signal), bounded in time, never for a fixed duration.

use std::{
    collections::BTreeSet,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use prost::Message as _;

use sightline_proto::v1::{Search, event::Kind};
use sightline_tests::{
    collector::{TestCollector, batch, get, post_batch, test_config},
    kafka::{end_offsets, events_topic, read_events_from},
};
use tokio::sync::Mutex;

/// Polls `check` every 10 ms until it yields a value; an error naming `what` after `limit`.
async fn wait_for<T, F: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        anyhow::ensure!(Instant::now() < deadline, "no {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_loses_no_acknowledged_event() -> anyhow::Result<()> {
    let searches = events_topic();
    let start = end_offsets(&searches)?;
    let mut config = test_config();
    // Long enough for this test to see /readyz answer 503 and a request served meanwhile on
    // a loaded machine; the test waits for those facts, not for this time.
    config.shutdown.readiness_grace_ms = 3_000;
    let mut collector = TestCollector::start(config).await?;
    let addr = collector.addr;
    let run = rand::random::<u32>();
    let acked: Arc<Mutex<BTreeSet<Vec<u8>>>> = Arc::default();
    let mut senders = Vec::new();
    for sender in 0..8 {
        let acked = acked.clone();
        senders.push(tokio::spawn(async move {
            let mut refused = 0u32;
            // Bounded: at most 400 requests per sender, stop at the first refusal after shutdown.
            for i in 0..400 {
                let anon = format!("sd-{run}-{sender}-{}", i % 5);
                let b = batch(
                    &anon,
                    "",
                    (0..10)
                        .map(|j| {
                            Kind::Search(Search {
                                query: format!("{i}-{j}"),
                                results_count: 0,
                            })
                        })
                        .collect(),
                );
                let ids: Vec<Vec<u8>> = b.events.iter().map(|e| e.event_id.clone()).collect();
                match post_batch(addr, "", &[], b.encode_to_vec()).await {
                    Ok(reply) if reply.status == 200 => acked.lock().await.extend(ids),
                    _ => {
                        refused += 1;
                        if refused > 3 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    // Load is flowing: 20 requests of 10 events acknowledged.
    wait_for(
        "load before the signal",
        Duration::from_secs(60),
        || async { (acked.lock().await.len() >= 200).then_some(()) },
    )
    .await?;
    let acked_before_signal = acked.lock().await.len();
    collector.signal_shutdown();
    let ready = wait_for(
        "/readyz 503 after the signal",
        Duration::from_secs(3),
        || async { get(addr, "/readyz").await.ok().filter(|r| r.status == 503) },
    )
    .await?;
    assert_eq!(ready.json()["reason"], "draining", "{}", ready.body);
    assert_eq!(
        get(addr, "/healthz").await?.status,
        200,
        "still alive while draining"
    );
    // The grace period serves requests: one acknowledged after the signal.
    wait_for(
        "request served while draining",
        Duration::from_secs(3),
        || async { (acked.lock().await.len() > acked_before_signal).then_some(()) },
    )
    .await?;

    collector.stop().await?;
    for sender in senders {
        sender.await?;
    }
    let acked = acked.lock().await.clone();

    let events = read_events_from(&searches, &start, usize::MAX, Duration::from_secs(5))?;
    let found: BTreeSet<Vec<u8>> = events
        .iter()
        .filter(|e| {
            e.key()
                .is_some_and(|k| k.starts_with(format!("sd-{run}-").as_bytes()))
        })
        .filter_map(|e| e.event.event.as_ref().map(|e| e.event_id.clone()))
        .collect();
    let lost: Vec<_> = acked.difference(&found).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged events lost",
        lost.len(),
        acked.len()
    );
    eprintln!(
        "shutdown under load: {} acknowledged events, all found in Kafka",
        acked.len()
    );
    Ok(())
}
