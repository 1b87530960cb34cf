//! Kafka trouble is answered with 503 + Retry-After, never with an unbounded queue or
//! a 200 for records Kafka did not acknowledge.

use prost::Message as _;
use sightline_proto::v1::{Click, Element, event::Kind};
use sightline_tests::collector::{
    TestCollector, batch, get, metric, metrics, post_batch, test_config,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_producer_queue_gives_503_with_retry_after() -> anyhow::Result<()> {
    let mut config = test_config();
    // The queue counts records. In the default layout a request is one record unless its
    // events encode above routing.max_record_bytes: 10 clicks of ~500 bytes at a 1 KiB
    // limit are 10 records, which a queue of 2 cannot take.
    config.kafka.queue_max_messages = 2;
    config.kafka.linger_ms = 200;
    config.routing.max_record_bytes = 1024;
    let collector = TestCollector::start(config).await?;
    let anon = format!("qf-{}", rand::random::<u32>());
    let click = || {
        Kind::Click(Click {
            element: Some(Element {
                selector: "main > div.course-list > a.course".repeat(14),
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    let body = batch(&anon, "", (0..10).map(|_| click()).collect());
    let reply = post_batch(collector.addr, "", &[], body.encode_to_vec()).await?;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"], "queue_full");
    assert_eq!(reply.header("retry-after"), Some("5"));
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_requests_refused_total{code=\"queue_full\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_accepted_total{kind=\"click\"}"
        ),
        0.0
    );
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_kafka_gives_503_and_not_ready() -> anyhow::Result<()> {
    let mut config = test_config();
    // Nothing listens on port 1; records time out after 1 s instead of 30.
    config.kafka.brokers = "127.0.0.1:1".into();
    config.kafka.ack_timeout_ms = 1_000;
    config.kafka.health_check_interval_ms = 200;
    config.shutdown.flush_timeout_ms = 500;
    let collector = TestCollector::start(config).await?;
    let ready = get(collector.addr, "/readyz").await?;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["reason"], "kafka_unreachable");
    let body = batch("nobody", "", vec![Kind::Click(Click::default())]);
    let started = std::time::Instant::now();
    let reply = post_batch(collector.addr, "", &[], body.encode_to_vec()).await?;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"], "kafka_unavailable");
    assert!(reply.header("retry-after").is_some());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "bounded by ack_timeout_ms"
    );
    // Shutdown still returns (the flush fails within its bound and is reported).
    let stopped = collector.stop().await;
    assert!(stopped.is_ok() || stopped.is_err_and(|e| e.to_string().contains("flush")));
    Ok(())
}
