//! SIGTERM under load: readiness turns 503 first, in-flight requests finish, the
//! producer is flushed, and every event the collector acknowledged is in Kafka.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use prost::Message as _;
use rdkafka::Message;
use sightline_proto::v1::{CollectedEvent, Search, event::Kind};
use sightline_tests::{
    collector::{TestCollector, batch, get, post_batch, test_config},
    kafka::{end_offsets, read_from, topic},
};
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_loses_no_acknowledged_event() -> anyhow::Result<()> {
    let searches = topic("searches");
    let start = end_offsets(&searches)?;
    let mut config = test_config();
    config.shutdown.readiness_grace_ms = 300;
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
    tokio::time::sleep(Duration::from_millis(700)).await;
    let acked_before_signal = acked.lock().await.len();
    assert!(acked_before_signal > 0, "load is flowing before shutdown");
    collector.signal_shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ready = get(addr, "/readyz").await?;
    assert_eq!(ready.status, 503, "readyz turns 503 first: {}", ready.body);
    assert_eq!(ready.json()["reason"], "draining");
    assert_eq!(
        get(addr, "/healthz").await?.status,
        200,
        "still alive while draining"
    );

    collector.stop().await?;
    for sender in senders {
        sender.await?;
    }
    let acked = acked.lock().await.clone();
    assert!(
        acked.len() > acked_before_signal,
        "requests in flight during the grace period were served"
    );

    let records = read_from(&searches, &start, usize::MAX, Duration::from_secs(5))?;
    let found: BTreeSet<Vec<u8>> = records
        .iter()
        .filter(|m| {
            m.key()
                .is_some_and(|k| k.starts_with(format!("sd-{run}-").as_bytes()))
        })
        .filter_map(|m| {
            CollectedEvent::decode(m.payload()?)
                .ok()?
                .event
                .map(|e| e.event_id)
        })
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
