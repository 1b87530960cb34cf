//! The broker from `scripts/kafka.sh up` is real: produce keyed CollectedEvents with
//! librdkafka's Java-compatible partitioner and read exactly them back.

use std::time::Duration;

use prost::Message as _;
use rdkafka::{
    ClientConfig, Message,
    producer::{FutureProducer, FutureRecord},
};
use sightline_proto::v1::{CollectedEvent, Event, EventKind, Search, event::Kind};
use sightline_tests::kafka::{bootstrap, end_offsets, partition_count, read_from, topic};

#[tokio::test]
async fn produced_events_are_consumed_back_from_the_real_broker() -> anyhow::Result<()> {
    let topic = topic("searches");
    assert_eq!(
        partition_count(&topic)?,
        6,
        "scripts/kafka.sh creates 6 partitions"
    );
    let start = end_offsets(&topic)?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("partitioner", "murmur2_random")
        .set("acks", "all")
        .create()?;

    let run = rand::random::<u32>();
    let mut sent = Vec::new();
    for i in 0..20u32 {
        let user = format!("user-{run}-{}", i % 4);
        let collected = CollectedEvent {
            kind: EventKind::Search as i32,
            user_key: user.clone(),
            event: Some(Event {
                event_id: i.to_be_bytes().repeat(4),
                seq: u64::from(i) + 1,
                kind: Some(Kind::Search(Search {
                    query: format!("calculus {run} {i}"),
                    results_count: i,
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let payload = collected.encode_to_vec();
        let record = FutureRecord::to(&topic).key(&user).payload(&payload);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(err, _)| err)?;
        sent.push(collected);
    }

    let records = read_from(&topic, &start, sent.len(), Duration::from_secs(20))?;
    let mut received: Vec<CollectedEvent> = records
        .iter()
        .map(|m| CollectedEvent::decode(m.payload().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    received.sort_by_key(|c| c.event.as_ref().map(|e| e.seq));
    assert_eq!(received, sent);

    // A user's records share one partition (keyed, murmur2 like the Java client).
    for user in 0..4 {
        let key = format!("user-{run}-{user}");
        let partitions: std::collections::BTreeSet<i32> = records
            .iter()
            .filter(|m| m.key() == Some(key.as_bytes()))
            .map(|m| m.partition())
            .collect();
        assert_eq!(partitions.len(), 1, "{key} spread over {partitions:?}");
    }
    Ok(())
}
