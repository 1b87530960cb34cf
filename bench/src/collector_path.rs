//! The collector's own request path, called in-process: `payload::decode` →
//! `payload::process` (validate) → `Router::route` (encode to records). The
//! Kafka ceiling sends exactly these records, and the profile walks exactly these steps,
//! so neither drifts from what the collector really does.

use anyhow::Context;
use prost::Message;
use sightline_collector::{
    config::Config,
    payload::{self, RequestFacts},
    routing::Router,
    sinks::Record,
};
use sightline_proto::v1::Batch;

use crate::workload::{BatchGenerator, WorkloadConfig};

/// The collector's config from `path`, with the broker list replaced when one is given:
/// the ceilings and the hot-path profile run with exactly the collector's settings.
pub fn load_config(path: &std::path::Path, brokers: Option<&String>) -> anyhow::Result<Config> {
    let mut config = Config::load(Some(path)).context("loading the collector config")?;
    if let Some(brokers) = brokers {
        config.kafka.brokers.clone_from(brokers);
    }
    Ok(config)
}

/// Wall clock in ms since the Unix epoch (0 if the clock is before it).
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What the collector would know about a request from the load generator.
pub fn request_facts(config: &Config, received_at_ms: i64) -> RequestFacts {
    RequestFacts {
        received_at_ms,
        client_ip: "127.0.0.0".into(),
        user_agent: "sightline-loadgen/0.1".into(),
        collector_id: config.server.collector_id.clone(),
    }
}

/// Encoded batches from the workload, as the collector receives them.
pub fn encoded_batches(workload: WorkloadConfig, count: usize, now_ms: i64) -> Vec<Vec<u8>> {
    let mut generator = BatchGenerator::new(workload);
    (0..count)
        .map(|_| generator.batch(now_ms).encode_to_vec())
        .collect()
}

/// Why building records failed: the workload produced something the collector refuses.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("the collector refused a generated batch: {0}")]
    Refused(String),
}

/// Runs one body through the collector's steps and returns its records.
pub fn records_of(
    body: &[u8],
    config: &Config,
    router: &Router,
    facts: &RequestFacts,
) -> Result<Vec<Record>, PathError> {
    let batch: Batch = payload::decode(body).map_err(|e| PathError::Refused(e.to_string()))?;
    let site = batch.site_key.clone();
    let processed = payload::process(batch, facts, &config.limits);
    Ok(router.route(&processed, &site, false))
}
