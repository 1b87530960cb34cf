//! The profile consumer: every partition of the configured topics, assigned by hand (no
//! group membership, nothing committed), so every replica holds every profile and any
//! replica behind a balancer can answer any visitor.
//!
//! At start each partition is read from `kafka.lookback_s` ago (by timestamp; its start
//! when older) and the end offsets are noted: once every partition reached its noted end,
//! the service is caught up and `/readyz` turns 200. Topics or partitions that appear
//! later are found by a metadata refresh every `kafka.metadata_refresh_ms` and read from
//! their beginning.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
    error::KafkaError,
    message::{BorrowedMessage, Headers},
};
use sightline_proto::record::read_record;

use crate::{
    catalogue::CatalogueHandle,
    config::{Config, KafkaConfig, SignalWeights},
    metrics::{Metrics, OutcomeLabel},
    profiles::ProfileStore,
    signals::{profiling_allowed, signals, traits},
    time::TimeSource,
};

struct Folder {
    catalogue: Arc<CatalogueHandle>,
    profiles: Arc<ProfileStore>,
    metrics: Arc<Metrics>,
    caught_up: Arc<AtomicBool>,
    time: Arc<dyn TimeSource>,
    weights: SignalWeights,
    /// Full name of the erasure topic (empty: not read).
    erasures: String,
}

/// Starts the consumer task. Fails only when the client cannot be created (bad settings);
/// an unreachable broker is retried, with `/readyz` answering 503 meanwhile.
pub fn spawn(
    config: &Config,
    catalogue: Arc<CatalogueHandle>,
    profiles: Arc<ProfileStore>,
    metrics: Arc<Metrics>,
    caught_up: Arc<AtomicBool>,
    time: Arc<dyn TimeSource>,
) -> Result<(), KafkaError> {
    let kafka = config.kafka.clone();
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        // Required by librdkafka even with manual assignment; never committed.
        .set("group.id", &kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        // Profiles want the newest events soonest.
        .set("fetch.wait.max.ms", "50")
        .create()?;
    let folder = Folder {
        catalogue,
        profiles,
        metrics,
        caught_up,
        time,
        weights: config.profiles.weights.clone(),
        erasures: if kafka.erasures_topic.is_empty() {
            String::new()
        } else {
            kafka.topic(&kafka.erasures_topic)
        },
    };
    tokio::spawn(run(Arc::new(consumer), kafka, folder));
    Ok(())
}

/// (topic, partition) → the offset to reach to be caught up.
type Ends = HashMap<(String, i32), i64>;

async fn run(consumer: Arc<StreamConsumer>, kafka: KafkaConfig, folder: Folder) {
    let mut assigned: HashSet<(String, i32)> = HashSet::new();
    let mut ends: Option<Ends> = None;
    let refresh = Duration::from_millis(kafka.metadata_refresh_ms.max(100));
    let mut next_refresh = tokio::time::Instant::now();
    let mut stream = consumer.stream();
    loop {
        if tokio::time::Instant::now() >= next_refresh {
            let first = ends.is_none();
            let c = consumer.clone();
            let k = kafka.clone();
            let known = assigned.clone();
            let now = folder.time.now_ms();
            let found =
                tokio::task::spawn_blocking(move || assign_new(&c, &k, &known, first, now)).await;
            match found {
                Ok(Ok((added, new_ends))) => {
                    assigned.extend(added);
                    if first {
                        tracing::info!(
                            partitions = assigned.len(),
                            to_read = new_ends.len(),
                            "profile consumer assigned"
                        );
                        ends = Some(new_ends);
                    }
                }
                Ok(Err(err)) => {
                    tracing::warn!(%err, "profile consumer: metadata lookup failed; retrying")
                }
                Err(err) => tracing::warn!(%err, "profile consumer: metadata task failed"),
            }
            next_refresh = tokio::time::Instant::now() + refresh;
        }
        if let Some(e) = &ends {
            if e.is_empty() && !folder.caught_up.load(Ordering::SeqCst) {
                tracing::info!("profile consumer caught up");
                folder.caught_up.store(true, Ordering::SeqCst);
                folder.metrics.caught_up.set(1);
            }
        }
        let message = tokio::select! {
            m = stream.next() => m,
            () = tokio::time::sleep_until(next_refresh) => continue,
        };
        let Some(message) = message else { return };
        match message {
            Ok(message) => {
                if let Some(e) = ends.as_mut() {
                    let key = (message.topic().to_owned(), message.partition());
                    if e.get(&key).is_some_and(|end| message.offset() + 1 >= *end) {
                        e.remove(&key);
                    }
                }
                folder.fold_record(&message);
            }
            Err(err) => {
                // librdkafka reconnects by itself.
                tracing::warn!(%err, "profile consumer error");
            }
        }
    }
}

/// Assigns the partitions not assigned yet. On the first call they start `lookback_s`
/// ago and their end offsets are returned; later, new partitions start at the beginning.
fn assign_new(
    consumer: &StreamConsumer,
    kafka: &KafkaConfig,
    known: &HashSet<(String, i32)>,
    first: bool,
    now_ms: i64,
) -> Result<(Vec<(String, i32)>, Ends), KafkaError> {
    let timeout = Duration::from_millis(kafka.request_timeout_ms);
    let mut added = Vec::new();
    let mut ends = Ends::new();
    let mut by_time = TopicPartitionList::new();
    // Erasure requests are read whole, whatever their age: (topic, partition).
    let mut whole = Vec::new();
    let since = now_ms
        .saturating_sub(i64::try_from(kafka.lookback_s.saturating_mul(1000)).unwrap_or(i64::MAX));
    let erasures = (!kafka.erasures_topic.is_empty()).then(|| kafka.topic(&kafka.erasures_topic));
    for topic in kafka
        .topics
        .iter()
        .map(|suffix| kafka.topic(suffix))
        .chain(erasures.clone())
    {
        let metadata = consumer.fetch_metadata(Some(&topic), timeout)?;
        let Some(info) = metadata.topics().first() else {
            continue;
        };
        if info.error().is_some() {
            // Not created yet: looked for again at the next refresh.
            continue;
        }
        for partition in info.partitions() {
            let key = (topic.clone(), partition.id());
            if known.contains(&key) {
                continue;
            }
            if first {
                let (low, high) = consumer.fetch_watermarks(&topic, partition.id(), timeout)?;
                if high > low {
                    ends.insert(key.clone(), high);
                }
            }
            if Some(&topic) == erasures.as_ref() {
                whole.push(key.clone());
            } else {
                by_time.add_partition_offset(&topic, partition.id(), Offset::Offset(since))?;
            }
            added.push(key);
        }
    }
    if added.is_empty() {
        return Ok((added, ends));
    }
    let mut assignment = TopicPartitionList::new();
    for (topic, partition) in &whole {
        assignment.add_partition_offset(topic, *partition, Offset::Beginning)?;
    }
    if first && by_time.count() > 0 {
        // Offsets of the first record at or after `since`; none (all older) → the end.
        let found = consumer.offsets_for_times(by_time, timeout)?;
        for element in found.elements() {
            let offset = match element.offset() {
                Offset::Offset(n) => Offset::Offset(n),
                _ => Offset::End,
            };
            assignment.add_partition_offset(element.topic(), element.partition(), offset)?;
            if offset == Offset::End {
                ends.remove(&(element.topic().to_owned(), element.partition()));
            }
        }
    } else if !first {
        for (topic, partition) in added.iter().filter(|k| !whole.contains(k)) {
            assignment.add_partition_offset(topic, *partition, Offset::Beginning)?;
        }
    }
    consumer.incremental_assign(&assignment)?;
    Ok((added, ends))
}

/// The fields of an erasure request that matter here (`sightline-admin erase`'s JSON).
#[derive(serde::Deserialize)]
struct Erasure {
    site: String,
    id_kind: String,
    id: String,
    requested_at_ms: i64,
}

impl Folder {
    /// A profile is keyed by user id or anonymous id (the collector's `user_key`); a
    /// cookieless `visitor_id` never had one.
    fn erase(&self, payload: &[u8]) {
        let count = |outcome: &'static str| {
            self.metrics
                .erasures
                .get_or_create(&OutcomeLabel { outcome })
                .inc();
        };
        match serde_json::from_slice::<Erasure>(payload) {
            Ok(e) if e.id_kind == "user_id" || e.id_kind == "anonymous_id" => {
                self.profiles.erase(&e.site, &e.id, e.requested_at_ms);
                count("applied");
            }
            Ok(_) => count("no_profile_kind"),
            Err(_) => count("undecodable"),
        }
    }

    fn fold_record(&self, message: &BorrowedMessage<'_>) {
        if !self.erasures.is_empty() && message.topic() == self.erasures {
            self.erase(message.payload().unwrap_or_default());
            return;
        }
        let headers: Vec<(&str, Option<&[u8]>)> = message
            .headers()
            .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
            .unwrap_or_default();
        let payload = message.payload().unwrap_or_default();
        let count = |outcome: &'static str| {
            self.metrics
                .events
                .get_or_create(&OutcomeLabel { outcome })
                .inc();
        };
        let events = match read_record(headers, payload) {
            Ok(events) => events,
            Err(_) => {
                count("undecodable");
                return;
            }
        };
        let catalogue = self.catalogue.get();
        let now = self.time.now_ms();
        let live = self.caught_up.load(Ordering::Relaxed);
        for event in events {
            let Ok(event) = event else {
                count("undecodable");
                continue;
            };
            if !profiling_allowed(&event) {
                count("not_allowed");
                continue;
            }
            count("profiled");
            let found = signals(&event, &catalogue, &self.weights);
            let (college, cohort) = traits(&event);
            let at = match event.event_time_ms {
                0 => event.received_at_ms,
                t => t,
            }
            .min(now);
            let folded = self.profiles.fold(
                &event.site_key,
                &event.user_key,
                college,
                cohort,
                &found,
                at,
            );
            if !folded {
                count("erased");
                continue;
            }
            self.metrics.profile_updates.inc();
            if live && event.received_at_ms > 0 {
                let lag = (now - event.received_at_ms).max(0) as f64 / 1000.0;
                self.metrics.freshness_seconds.observe(lag);
            }
        }
    }
}
