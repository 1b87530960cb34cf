//! Rate limits against the real broker: per-IP 429 with Retry-After, and the hot-user
//! guard rerouting a flooding user to the overflow topic instead of one partition.

use std::time::Duration;

use prost::Message as _;

use sightline_proto::v1::{Click, event::Kind};
use sightline_tests::{
    collector::{TestCollector, batch, metric, metrics, post_batch, test_config},
    kafka::{end_offsets, events_topic, read_events_from, topic},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceeding_the_per_ip_limit_gives_429_with_retry_after() -> anyhow::Result<()> {
    let mut config = test_config();
    config.rate_limits.per_ip_per_s = 1;
    config.rate_limits.per_ip_burst = 3;
    let collector = TestCollector::start(config).await?;
    let anon = format!("rl-{}", rand::random::<u32>());
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let body = batch(&anon, "", vec![Kind::Click(Click::default())]).encode_to_vec();
        let reply = post_batch(collector.addr, "", &[], body).await?;
        if reply.status == 429 {
            assert_eq!(reply.json()["error"], "rate_limited");
            retry_after = reply
                .header("retry-after")
                .and_then(|v| v.parse::<u64>().ok());
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    assert!(
        retry_after.is_some_and(|s| (1..=2).contains(&s)),
        "Retry-After {retry_after:?}"
    );
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(&m, "sightline_collector_rate_limited_total{limiter=\"ip\"}"),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_http_requests_total{route=\"/v1/batch\",status=\"429\"}"
        ),
        2.0
    );
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_user_is_rerouted_to_the_overflow_topic_unkeyed() -> anyhow::Result<()> {
    let overflow = topic("overflow");
    // Layout v2 (per_batch): keyed events are on the events topic, one record per request.
    let clicks = events_topic();
    let overflow_start = end_offsets(&overflow)?;
    let clicks_start = end_offsets(&clicks)?;
    let mut config = test_config();
    config.rate_limits.hot_user_events_per_s = 1;
    config.rate_limits.hot_user_events_burst = 10;
    let collector = TestCollector::start(config).await?;
    let anon = format!("hot-{}", rand::random::<u32>());
    let clicks_batch = |n: usize| {
        batch(
            &anon,
            "",
            (0..n).map(|_| Kind::Click(Click::default())).collect(),
        )
    };
    // The first 10 events use the user's burst and go to the keyed clicks topic; the
    // next 6 batches overflow. They are spaced beyond librdkafka's sticky-partition
    // window (10 ms) so unkeyed records may spread over partitions.
    let mut sizes = vec![10];
    sizes.extend([5; 6]);
    for (i, size) in sizes.into_iter().enumerate() {
        let reply = post_batch(collector.addr, "", &[], clicks_batch(size).encode_to_vec()).await?;
        assert_eq!(
            reply.status, 200,
            "overflow still acknowledges: {}",
            reply.body
        );
        assert_eq!(reply.json()["accepted"], size, "batch {i}");
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(&m, "sightline_collector_events_overflowed_total"),
        30.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_rate_limited_total{limiter=\"hot_user\"}"
        ),
        6.0
    );
    collector.stop().await?;

    let keyed = read_events_from(&clicks, &clicks_start, usize::MAX, Duration::from_secs(2))?;
    assert_eq!(
        keyed
            .iter()
            .filter(|e| e.key() == Some(anon.as_bytes()))
            .count(),
        10
    );
    let spilled = read_events_from(
        &overflow,
        &overflow_start,
        usize::MAX,
        Duration::from_secs(2),
    )?;
    let ours: Vec<_> = spilled
        .iter()
        .filter(|e| e.event.user_key == anon)
        .map(|e| (e.key().is_none(), e.partition()))
        .collect();
    assert_eq!(ours.len(), 30);
    assert!(
        ours.iter().all(|(unkeyed, _)| *unkeyed),
        "overflow records carry no key"
    );
    let partitions: std::collections::BTreeSet<i32> = ours.iter().map(|(_, p)| *p).collect();
    assert!(
        partitions.len() > 1,
        "overflow spreads over partitions: {partitions:?}"
    );
    Ok(())
}
