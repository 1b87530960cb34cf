//! The Kafka [`Sink`]: librdkafka's idempotent producer with `acks=all`; a request's
//! future resolves only when the broker acknowledged every one of its records.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::future::BoxFuture;
use rdkafka::{
    ClientConfig,
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord, Producer},
    util::Timeout,
};
use tokio::task::JoinHandle;

use super::{Record, RecordHeaders, Sink, SinkError, SinkHealth};
use crate::config::KafkaConfig;

#[derive(Debug, thiserror::Error)]
pub enum KafkaSinkError {
    #[error("cannot create the Kafka producer: {0}")]
    Create(#[from] KafkaError),
}

pub struct KafkaSink {
    producer: FutureProducer,
    reachable: Arc<AtomicBool>,
    high_water: u64,
    probe: JoinHandle<()>,
}

/// The producer settings, in the order they are applied (`kafka.extra` last).
pub fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("client.id", "sightline-collector")
        // Durable = written to every in-sync replica; idempotence keeps retries from
        // duplicating or reordering records within a partition.
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("compression.type", config.compression.as_librdkafka())
        .set("linger.ms", config.linger_ms.to_string())
        .set("message.timeout.ms", config.ack_timeout_ms.to_string())
        .set(
            "queue.buffering.max.messages",
            config.queue_max_messages.to_string(),
        )
        .set(
            "queue.buffering.max.kbytes",
            config.queue_max_kbytes.to_string(),
        )
        // Same partition for a key as the Java client's default partitioner; unkeyed
        // records (overflow) are spread randomly.
        .set("partitioner", "murmur2_random");
    for (name, value) in &config.extra {
        client.set(name, value);
    }
    client
}

impl KafkaSink {
    /// Creates the producer and starts probing broker reachability every
    /// `health_check_interval_ms` (the first probe runs before this returns, bounded).
    pub async fn connect(config: &KafkaConfig) -> Result<Self, KafkaSinkError> {
        let producer: FutureProducer = client_config(config).create()?;
        let reachable = Arc::new(AtomicBool::new(false));
        let interval = Duration::from_millis(config.health_check_interval_ms.max(100));
        let probe_timeout = interval.min(Duration::from_secs(5));
        reachable.store(probe(&producer, probe_timeout).await, Ordering::SeqCst);
        let probe = tokio::spawn({
            let producer = producer.clone();
            let reachable = reachable.clone();
            async move {
                loop {
                    tokio::time::sleep(interval).await;
                    let ok = probe(&producer, probe_timeout).await;
                    if ok != reachable.swap(ok, Ordering::SeqCst) {
                        tracing::warn!(reachable = ok, "Kafka reachability changed");
                    }
                }
            }
        });
        let high_water =
            u64::from(config.queue_max_messages) * u64::from(config.queue_high_water_pct) / 100;
        Ok(Self {
            producer,
            reachable,
            high_water,
            probe,
        })
    }
}

/// Whether the brokers answer a metadata request (blocking call, so off the runtime).
async fn probe(producer: &FutureProducer, timeout: Duration) -> bool {
    let producer = producer.clone();
    tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, timeout).is_ok())
        .await
        .unwrap_or(false)
}

fn headers(h: &RecordHeaders) -> OwnedHeaders {
    let headers = OwnedHeaders::new_with_capacity(4)
        .insert(Header {
            key: RecordHeaders::SCHEMA,
            value: Some(h.schema.as_ref()),
        })
        .insert(Header {
            key: RecordHeaders::KIND,
            value: Some(h.kind.as_ref()),
        })
        .insert(Header {
            key: RecordHeaders::SITE,
            value: Some(h.site.as_str()),
        });
    match &h.layout {
        Some(layout) => headers.insert(Header {
            key: RecordHeaders::LAYOUT,
            value: Some(layout.as_ref()),
        }),
        None => headers,
    }
}

impl Sink for KafkaSink {
    fn deliver<'a>(&'a self, records: &'a [Record]) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let mut acks = Vec::with_capacity(records.len());
            for record in records {
                let mut future_record = FutureRecord::<str, [u8]>::to(&record.topic)
                    .payload(&record.payload)
                    .headers(headers(&record.headers));
                if let Some(key) = &record.key {
                    future_record = future_record.key(key.as_str());
                }
                // send_result never waits for queue space: a full queue is load to
                // shed now, not memory to grow.
                match self.producer.send_result(future_record) {
                    Ok(ack) => acks.push(ack),
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        return Err(SinkError::QueueFull);
                    }
                    Err((err, _)) => return Err(SinkError::Delivery(err.to_string())),
                }
            }
            for ack in acks {
                match ack.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((err, _))) => return Err(SinkError::Delivery(err.to_string())),
                    Err(_) => return Err(SinkError::Delivery("producer was dropped".into())),
                }
            }
            Ok(())
        })
    }

    fn health(&self) -> SinkHealth {
        SinkHealth {
            reachable: self.reachable.load(Ordering::SeqCst),
            queue_depth: u64::try_from(self.producer.in_flight_count()).unwrap_or(0),
            high_water: self.high_water,
            spool: None,
        }
    }

    fn flush(&self, timeout: Duration) -> BoxFuture<'_, Result<(), SinkError>> {
        let producer = self.producer.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || producer.flush(Timeout::After(timeout)))
                .await
                .map_err(|e| SinkError::Delivery(e.to_string()))?
                .map_err(|e| SinkError::Delivery(e.to_string()))
        })
    }
}

impl Drop for KafkaSink {
    fn drop(&mut self) {
        self.probe.abort();
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::producer::BaseProducer;

    use super::*;
    use crate::config::Compression;

    /// Every `kafka.compression` the config accepts is built into librdkafka (zstd needs
    /// rdkafka's `zstd` feature; without it the producer refuses to start).
    #[test]
    fn every_configured_codec_is_built_in() {
        for compression in [Compression::Lz4, Compression::Zstd] {
            let config = KafkaConfig {
                compression,
                ..KafkaConfig::default()
            };
            let created = client_config(&config).create::<BaseProducer>();
            assert!(created.is_ok(), "{compression:?}: {:?}", created.err());
        }
    }
}
