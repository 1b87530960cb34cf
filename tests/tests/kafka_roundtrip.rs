//! The broker from `scripts/kafka.sh up` is real: produce keyed CollectedEvents with
//! librdkafka's Java-compatible partitioner, in both record layouts (v1: one per record;
//! v2: several length-delimited per record, header `sightline-layout: delimited-v2`), and
//! read exactly them back through `sightline_proto::record`.

use std::time::Duration;

use prost::Message as _;
use rdkafka::{
    ClientConfig,
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use sightline_proto::{
    record::{LAYOUT_DELIMITED_V2, LAYOUT_HEADER, push_delimited},
    v1::{CollectedEvent, Event, EventKind, Search, event::Kind},
};
use sightline_tests::kafka::{bootstrap, end_offsets, partition_count, read_events_from, topic};

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
        sent.push(collected);
    }
    // Events 0..10 one per record (v1); 10..20 up to two per record (v2), one user per record.
    for collected in &sent[..10] {
        let payload = collected.encode_to_vec();
        let record = FutureRecord::to(&topic)
            .key(&collected.user_key)
            .payload(&payload);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(err, _)| err)?;
    }
    let mut by_user: std::collections::BTreeMap<&str, Vec<&CollectedEvent>> = Default::default();
    for collected in &sent[10..] {
        by_user
            .entry(&collected.user_key)
            .or_default()
            .push(collected);
    }
    let mut v2_records = 0;
    for (user, events) in by_user {
        for pair in events.chunks(2) {
            v2_records += 1;
            let mut payload = Vec::new();
            for collected in pair {
                push_delimited(collected, &mut payload);
            }
            let record = FutureRecord::to(&topic)
                .key(user)
                .payload(&payload)
                .headers(OwnedHeaders::new().insert(Header {
                    key: LAYOUT_HEADER,
                    value: Some(LAYOUT_DELIMITED_V2),
                }));
            producer
                .send(record, Duration::from_secs(10))
                .await
                .map_err(|(err, _)| err)?;
        }
    }

    let events = read_events_from(&topic, &start, sent.len(), Duration::from_secs(20))?;
    let mut received: Vec<CollectedEvent> = events.iter().map(|e| e.event.clone()).collect();
    received.sort_by_key(|c| c.event.as_ref().map(|e| e.seq));
    assert_eq!(received, sent);
    let records: std::collections::BTreeSet<(i32, i64)> =
        events.iter().map(|e| (e.partition(), e.offset())).collect();
    assert_eq!(
        records.len(),
        10 + v2_records,
        "10 v1 records, then the v2 records"
    );

    // A user's records share one partition (keyed, murmur2 like the Java client).
    for user in 0..4 {
        let key = format!("user-{run}-{user}");
        let partitions: std::collections::BTreeSet<i32> = events
            .iter()
            .filter(|e| e.key() == Some(key.as_bytes()))
            .map(|e| e.partition())
            .collect();
        assert_eq!(partitions.len(), 1, "{key} spread over {partitions:?}");
    }
    Ok(())
}
