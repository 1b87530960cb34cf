//! A small, fixed workload through the collector's request path, in-process, for
//! `valgrind --tool=callgrind`: each step is its own non-inlined function so the profile
//! attributes instructions to decode, validate (+ enrich), encode (routing to records)
//! and produce (the collector's Kafka sink, acks awaited) without guessing.
//!
//!   valgrind --tool=callgrind target/release/hotpath --config bench/collector.toml --batches 200
//!
//! Runs natively too (prints the same counts), which is how its output is checked.

use std::{
    net::IpAddr,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Parser;
use futures::{StreamExt, stream::FuturesUnordered};
use sightline_bench::{
    collector_path::{encoded_batches, load_config, request_facts, unix_ms},
    workload::WorkloadConfig,
};
use sightline_collector::{
    config::{Config, LimitsConfig},
    enrich::Enricher,
    ivt::{self, sivt::Sivt},
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

/// Edge enrichment (agent, databases when configured) and the invalid-traffic verdict: what
/// the collector adds per request before routing (issue 17).
#[inline(never)]
fn stage_enrich(
    enricher: &Enricher,
    sivt: &Sivt,
    processed: &mut Processed,
    client: IpAddr,
    agent: &str,
    received_at_ms: i64,
) {
    let enrichment = enricher.enrich(client, agent);
    let request = ivt::classify::request(&enrichment, agent, None, &http::HeaderMap::new());
    enrichment.apply(&mut processed.shared);
    ivt::classify_batch(sivt, request, processed, client, received_at_ms);
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
        let enricher = Enricher::new(&config.enrich).context("loading the enrichment databases")?;
        let sivt = Sivt::new(&config.ivt);
        // A browser agent and an address per request, as the collector sees them.
        let agents = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ];
        let mut enrich_time = Duration::ZERO;
        let (mut events, mut records_total, mut failures) = (0usize, 0usize, 0usize);
        let mut deliveries = FuturesUnordered::new();
        for body in &bodies {
            let Some(batch) = stage_decode(body) else {
                failures += 1;
                continue;
            };
            let site = batch.site_key.clone();
            let mut processed = stage_validate(batch, &facts, &config.limits);
            let n = events;
            let client = IpAddr::from([198, 51, 100, (n % 250) as u8]);
            let started = Instant::now();
            stage_enrich(&enricher, &sivt, &mut processed, client, agents[n % agents.len()], now_ms);
            enrich_time += started.elapsed();
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
        println!(
            "hotpath: enrichment + IVT classification {:.2} µs per batch, {:.3} µs per event",
            enrich_time.as_secs_f64() * 1e6 / bodies.len().max(1) as f64,
            enrich_time.as_secs_f64() * 1e6 / events.max(1) as f64
        );
        anyhow::Ok(())
    })
}
