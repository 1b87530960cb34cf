//! Producing to and reading back from the real broker. Records are read with
//! `sightline_proto::record` (both layouts), like every other consumer.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    error::{KafkaError, RDKafkaErrorCode},
    message::OwnedMessage,
};
use sightline_proto::v1::CollectedEvent;

/// Bootstrap address of the broker started by `make test` (`scripts/kafka.sh up`).
pub fn bootstrap() -> String {
    std::env::var("SIGHTLINE_KAFKA").unwrap_or_else(|_| {
        panic!(
            "SIGHTLINE_KAFKA is not set: these tests need the real broker; run them with `make test` \
             (or `make kafka-up` and SIGHTLINE_KAFKA=127.0.0.1:9092)"
        )
    })
}

/// Full topic name for a suffix from `proto/topics.txt`, with the default prefix.
pub fn topic(suffix: &str) -> String {
    format!("sightline.{suffix}")
}

/// Number of partitions of `topic` as the broker reports it.
pub fn partition_count(topic: &str) -> anyhow::Result<i32> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let info = metadata.topics().first().context("no metadata for topic")?;
    if let Some(err) = info.error() {
        bail!("topic {topic}: {err:?}");
    }
    Ok(info.partitions().len() as i32)
}

/// Current end offset of every partition of `topic`: read from here to see only new records.
pub fn end_offsets(topic: &str) -> anyhow::Result<Vec<(i32, i64)>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()?;
    (0..partition_count(topic)?)
        .map(|p| Ok((p, high_watermark(&consumer, topic, p)?)))
        .collect()
}

/// End offset of one partition. Retries for a while when the partition has no leader yet
/// (just after the broker started or restarted in an outage test), which is transient.
fn high_watermark(consumer: &BaseConsumer, topic: &str, partition: i32) -> anyhow::Result<i64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match consumer.fetch_watermarks(topic, partition, Duration::from_secs(10)) {
            Ok((_, high)) => return Ok(high),
            Err(err) if leaderless(&err) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

fn leaderless(err: &KafkaError) -> bool {
    matches!(
        err.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::UnknownTopicOrPartition
        )
    )
}

/// A consumer of its own group, assigned to `topic` at the given per-partition offsets.
fn consumer_from(topic: &str, start: &[(i32, i64)]) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set(
            "group.id",
            format!("sightline-tests-{}", rand::random::<u64>()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for &(partition, offset) in start {
        assignment.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    }
    consumer.assign(&assignment)?;
    Ok(consumer)
}

/// Reads `topic` from the given per-partition offsets until `expected` records arrived
/// or `timeout` passed, whichever is first. Returns what it read, in partition order.
pub fn read_from(
    topic: &str,
    start: &[(i32, i64)],
    expected: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<OwnedMessage>> {
    let consumer = consumer_from(topic, start)?;
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < expected && Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            records.push(message?.detach());
        }
    }
    records.sort_by_key(|m| (m.partition(), m.offset()));
    Ok(records)
}

/// The topic of the default record layout (`routing.records = "per_batch"`): every
/// accepted event, one record per request.
pub fn events_topic() -> String {
    topic(sightline_proto::TOPIC_SUFFIXES.events)
}

/// A record's headers as (name, value) pairs, as `sightline_proto::record` reads them.
pub fn headers_of(message: &OwnedMessage) -> Vec<(&str, Option<&[u8]>)> {
    use rdkafka::message::Headers;
    message
        .headers()
        .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
        .unwrap_or_default()
}

/// The value of header `name` of a record.
pub fn header<'a>(message: &'a OwnedMessage, name: &str) -> Option<&'a [u8]> {
    headers_of(message)
        .into_iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v)
}

/// The `CollectedEvent`s of one record, either layout (the reader every consumer uses).
pub fn events_of(message: &OwnedMessage) -> anyhow::Result<Vec<CollectedEvent>> {
    let events = sightline_proto::record::read_record(
        headers_of(message),
        message.payload().unwrap_or_default(),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "{} {}/{}: {e}",
            message.topic(),
            message.partition(),
            message.offset()
        )
    })?;
    events
        .map(|e| {
            e.map_err(|e| {
                anyhow::anyhow!(
                    "{} {}/{}: {e}",
                    message.topic(),
                    message.partition(),
                    message.offset()
                )
            })
        })
        .collect()
}

/// One event read back, with the record that carried it.
pub struct ReadEvent {
    pub record: std::sync::Arc<OwnedMessage>,
    /// Position of the event in its record (0 for v1 records).
    pub index: usize,
    pub event: CollectedEvent,
}

impl ReadEvent {
    pub fn key(&self) -> Option<&[u8]> {
        self.record.key()
    }
    pub fn partition(&self) -> i32 {
        self.record.partition()
    }
    pub fn offset(&self) -> i64 {
        self.record.offset()
    }
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header(&self.record, name)
    }
}

/// Reads `topic` from `start` like [`read_from`], until `expected` events (not records)
/// arrived or `timeout` passed; returns the events in partition and offset order.
pub fn read_events_from(
    topic: &str,
    start: &[(i32, i64)],
    expected: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<ReadEvent>> {
    let consumer = consumer_from(topic, start)?;
    let deadline = Instant::now() + timeout;
    let mut events = Vec::new();
    while events.len() < expected && Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let record = std::sync::Arc::new(message?.detach());
            for (index, event) in events_of(&record)?.into_iter().enumerate() {
                events.push(ReadEvent {
                    record: record.clone(),
                    index,
                    event,
                });
            }
        }
    }
    events.sort_by_key(|e| (e.record.partition(), e.record.offset(), e.index));
    Ok(events)
}
