//! A small, fixed workload through the collector's request path, in-process, for
//! `valgrind --tool=callgrind`: each step is its own non-inlined function so the profile
//! attributes instructions to decode, validate (+ enrich), encode (routing to records)
//! and produce (the collector's Kafka sink, acks awaited) without guessing.
//!
//!   valgrind --tool=callgrind target/release/hotpath --config bench/collector.toml --batches 200
//!
//! Runs natively too (prints the same counts), which is how its output is checked.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Parser;
use futures::{StreamExt, stream::FuturesUnordered};
use sightline_bench::{
    collector_path::{encoded_batches, load_config, request_facts, unix_ms},
    workload::WorkloadConfig,
};
use sightline_collector::{
    config::{Config, LimitsConfig},
    payload::{self, Processed, RequestFacts},
    routing::Router,
    sinks::{Record, Sink, kafka::KafkaSink},
};
use sightline_proto::v1::Batch;

/// The collector's allocator (collector/src/main.rs), so this process compares like
/// with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Fixed in-process workload through decode → validate → encode → produce")]
struct Args {
    #[arg(long)]
    config: PathBuf,
    /// Bootstrap servers (overrides kafka.brokers of the config).
    #[arg(long)]
    brokers: Option<String>,
    /// Batches to push through (each 1–100 events, same generator as the load runs).
    #[arg(long, default_value_t = 200)]
    batches: usize,
    /// Requests whose records are in flight at once, like concurrent HTTP requests.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Skip the Kafka step (decode, validate and encode only).
    #[arg(long)]
    no_produce: bool,
    #[arg(long, default_value_t = WorkloadConfig::default().seed)]
    seed: u64,
}

#[inline(never)]
fn stage_decode(body: &[u8]) -> Option<Batch> {
    payload::decode(body).ok()
}

#[inline(never)]
fn stage_validate(batch: Batch, facts: &RequestFacts, limits: &LimitsConfig) -> Processed {
    payload::process(batch, facts, limits)
}

#[inline(never)]
fn stage_encode(router: &Router, processed: &Processed, site: &str) -> Vec<Record> {
    router.route(processed, site, false)
}

/// Everything before the measured path: config, batches, producer connection.
#[inline(never)]
fn stage_setup(args: &Args) -> anyhow::Result<(Config, Vec<Vec<u8>>, i64)> {
    let config = load_config(&args.config, args.brokers.as_ref())?;
    let now_ms = unix_ms();
    let workload = WorkloadConfig {
        seed: args.seed,
        ..WorkloadConfig::default()
    };
    Ok((
        config,
        encoded_batches(workload, args.batches, now_ms),
        now_ms,
    ))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (config, bodies, now_ms) = stage_setup(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async {
        let sink = if args.no_produce {
            None
        } else {
            Some(KafkaSink::connect(&config.kafka).await.context("connecting to Kafka")?)
        };
        let router = Router::new(&config.routing);
        let facts = request_facts(&config, now_ms);
        let (mut events, mut records_total, mut failures) = (0usize, 0usize, 0usize);
        let mut deliveries = FuturesUnordered::new();
        for body in &bodies {
            let Some(batch) = stage_decode(body) else {
                failures += 1;
                continue;
            };
            let site = batch.site_key.clone();
            let processed = stage_validate(batch, &facts, &config.limits);
            events += processed.accepted.len();
            let records = stage_encode(&router, &processed, &site);
            records_total += records.len();
            if let Some(sink) = &sink {
                deliveries.push(async move { sink.deliver(&records).await });
                while deliveries.len() >= args.concurrency.max(1) {
                    if let Some(Err(_)) = deliveries.next().await {
                        failures += 1;
                    }
                }
            }
        }
        while let Some(result) = deliveries.next().await {
            if result.is_err() {
                failures += 1;
            }
        }
        if let Some(sink) = &sink {
            let _ = sink.flush(Duration::from_secs(30)).await;
        }
        println!(
            "hotpath: {} batches, {events} events accepted, {records_total} records, {failures} failures",
            bodies.len()
        );
        anyhow::Ok(())
    })
}
