//! The consumer: assigns every partition of the chosen topics directly (no consumer group,
//! so nothing is committed and nothing rebalances) and hands each record's events on.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};

use crate::{cli::Args, error::TailError, record::Line};

/// How long one metadata or watermark request may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Poll granularity: bounds how late an exit condition is noticed.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

pub struct Tail {
    consumer: BaseConsumer,
    prefix: String,
    /// With --until-end: (topic, partition) → offset to reach; drained partitions are removed.
    remaining: Option<HashMap<(String, i32), i64>>,
    deadline: Option<Instant>,
}

impl Tail {
    pub fn connect(args: &Args) -> Result<Self, TailError> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &args.brokers)
            // Required by librdkafka even with manual assignment; never committed.
            .set("group.id", "sightline-tail")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .create()?;
        let start = if args.from_beginning {
            Offset::Beginning
        } else {
            Offset::End
        };
        let mut assignment = TopicPartitionList::new();
        let mut ends = HashMap::new();
        for topic in args.topic_names() {
            for partition in partitions(&consumer, &topic)? {
                assignment.add_partition_offset(&topic, partition, start)?;
                if args.until_end {
                    let (low, high) =
                        consumer.fetch_watermarks(&topic, partition, METADATA_TIMEOUT)?;
                    if high > low && args.from_beginning {
                        ends.insert((topic.clone(), partition), high);
                    }
                }
            }
        }
        consumer.assign(&assignment)?;
        Ok(Self {
            consumer,
            prefix: args.prefix.clone(),
            remaining: args.until_end.then_some(ends),
            deadline: args
                .until_end
                .then(|| Instant::now() + args.until_end_timeout()),
        })
    }

    /// Calls `on_line` for every record until it returns `Ok(false)`, the end is reached
    /// (with --until-end) or an error occurs. Transient broker errors are reported and skipped.
    pub fn run(
        &mut self,
        mut on_line: impl FnMut(&Line) -> Result<bool, TailError>,
    ) -> Result<(), TailError> {
        loop {
            if self.reached_end() {
                return Ok(());
            }
            let Some(result) = self.consumer.poll(POLL_INTERVAL) else {
                continue;
            };
            let message = match result {
                Ok(message) => message,
                Err(err) => {
                    // librdkafka reconnects by itself; say so and keep reading.
                    eprintln!("sightline-tail: {err}");
                    continue;
                }
            };
            if let Some(remaining) = self.remaining.as_mut() {
                let key = (message.topic().to_owned(), message.partition());
                if remaining
                    .get(&key)
                    .is_some_and(|end| message.offset() + 1 >= *end)
                {
                    remaining.remove(&key);
                }
            }
            for line in Line::from_message(&message, &self.prefix) {
                if !on_line(&line)? {
                    return Ok(());
                }
            }
        }
    }

    fn reached_end(&self) -> bool {
        let drained = self.remaining.as_ref().is_some_and(HashMap::is_empty);
        let timed_out = self.deadline.is_some_and(|d| Instant::now() >= d);
        if timed_out && !drained {
            eprintln!("sightline-tail: --until-end timed out before every partition was read");
        }
        drained || timed_out
    }
}

fn partitions(consumer: &BaseConsumer, topic: &str) -> Result<Vec<i32>, TailError> {
    let metadata = consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT)?;
    let info = metadata
        .topics()
        .first()
        .ok_or_else(|| TailError::UnknownTopic {
            topic: topic.to_owned(),
        })?;
    if let Some(err) = info.error() {
        return Err(TailError::TopicMetadata {
            topic: topic.to_owned(),
            detail: format!("{err:?}"),
        });
    }
    if info.partitions().is_empty() {
        return Err(TailError::UnknownTopic {
            topic: topic.to_owned(),
        });
    }
    Ok(info.partitions().iter().map(|p| p.id()).collect())
}
