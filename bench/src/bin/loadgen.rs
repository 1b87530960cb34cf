//! Load generator for the collector (and the HTTP ceiling): keep-alive connections,
//! open-loop offered rate or closed loop, realistic protobuf batches, hdrhistogram
//! latencies. Loopback targets only; every run is bounded in time and in requests.
//!
//!   loadgen --target http://127.0.0.1:8080/v1/batch --rate 2000 --duration 20
//!   loadgen --target http://127.0.0.1:8080/v1/batch --closed --concurrency 32 --gzip

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::Parser;
use sightline_bench::{
    bodies,
    cpu::{Watched, parse_watched},
    load::{self, LoadConfig, Pacing, connection::RequestShape},
    results::LoadReport,
    target::Target,
    workload::WorkloadConfig,
};

/// Longest run the tool accepts, warm-up included: a benchmark, not a soak test.
const MAX_RUN_S: u64 = 600;

#[derive(Parser, Debug)]
#[command(about = "Sightline load generator (loopback only)")]
struct Args {
    /// URL to POST batches to; must be http:// on a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:8080/v1/batch")]
    target: String,
    /// Offered rate in requests per second (open loop). Ignored with --closed.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Closed loop: each connection sends its next request as soon as the last is answered.
    #[arg(long)]
    closed: bool,
    /// Keep-alive connections, i.e. requests in flight at most.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Upper bound on requests sent, warm-up included.
    #[arg(long, default_value_t = 10_000_000)]
    max_requests: u64,
    /// Gzip request bodies (Content-Encoding: gzip).
    #[arg(long)]
    gzip: bool,
    /// Send the same events as Segment-spec JSON batches to the collector's import API,
    /// with this write key (HTTP Basic), instead of protobuf batches.
    #[arg(long)]
    import_key: Option<String>,
    /// Distinct pre-built bodies to cycle through.
    #[arg(long, default_value_t = 2000)]
    pool: usize,
    /// Seed of the batch generator.
    #[arg(long, default_value_t = WorkloadConfig::default().seed)]
    seed: u64,
    /// Distinct visitors.
    #[arg(long, default_value_t = WorkloadConfig::default().users)]
    users: u32,
    /// Batch.site_key.
    #[arg(long, default_value = "demo")]
    site_key: String,
    /// Origin header, for collectors that check it.
    #[arg(long)]
    origin: Option<String>,
    /// Distinct client addresses sent as X-Forwarded-For (0: none), for a collector
    /// that trusts loopback as its load balancer.
    #[arg(long, default_value_t = 0)]
    forwarded_for: u32,
    /// Also account the CPU time of this process over the measured window (NAME=PID,
    /// repeatable); the load generator itself is always accounted as `loadgen`.
    #[arg(long, value_parser = parse_watched)]
    watch: Vec<Watched>,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Worker threads of the generator's runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Name of the run in the report.
    #[arg(long, default_value = "load")]
    label: String,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = Target::parse(&args.target)?;
    anyhow::ensure!(
        args.warmup + args.duration <= MAX_RUN_S,
        "warm-up + duration is {} s; the limit is {MAX_RUN_S} s",
        args.warmup + args.duration
    );
    anyhow::ensure!(
        args.closed || (args.rate.is_finite() && args.rate > 0.0),
        "--rate must be a positive number of requests per second (or use --closed)"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let workload = WorkloadConfig {
        seed: args.seed,
        users: args.users,
        site_key: args.site_key.clone(),
        ..WorkloadConfig::default()
    };
    let format = if args.import_key.is_some() {
        bodies::BodyFormat::SegmentJson
    } else {
        bodies::BodyFormat::Protobuf
    };
    let bodies = Arc::new(bodies::build_as(
        workload, args.pool, now_ms, args.gzip, format,
    )?);
    let authorization = match &args.import_key {
        Some(key) => Some(
            http::HeaderValue::from_str(&format!(
                "Basic {}",
                base64_of(format!("{key}:").as_bytes())
            ))
            .context("--import-key is not a valid header value")?,
        ),
        None => None,
    };
    let config = LoadConfig {
        label: args.label.clone(),
        target,
        shape: RequestShape {
            gzip: args.gzip,
            origin: args.origin.clone(),
            timeout: Duration::from_millis(args.timeout_ms),
            authorization,
        },
        pacing: if args.closed {
            Pacing::Closed
        } else {
            Pacing::Open {
                requests_per_s: args.rate,
            }
        },
        concurrency: args.concurrency,
        warmup: Duration::from_secs(args.warmup),
        duration: Duration::from_secs(args.duration),
        max_requests: args.max_requests,
        drain: Duration::from_millis(args.timeout_ms),
        forwarded_for: args.forwarded_for,
        watch: std::iter::once(Watched {
            name: "loadgen".into(),
            pid: std::process::id(),
        })
        .chain(args.watch.iter().cloned())
        .collect(),
    };
    let report = runtime.block_on(load::run(config, bodies));
    print_report(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_report(r: &LoadReport) {
    let offered = r.offered_rps.map_or("closed loop".to_string(), |rps| {
        format!("{rps:.0} req/s offered")
    });
    println!(
        "{}: {offered}, {} connections, gzip={}, {:.1} s measured",
        r.label, r.concurrency, r.gzip, r.measured_s
    );
    println!(
        "  {:.0} events/s, {:.0} req/s ({} ok, {} failed; {} events accepted, {} rejected by the server)",
        r.events_per_s,
        r.requests_per_s,
        r.requests_ok,
        r.requests_failed,
        r.events_accepted,
        r.events_rejected
    );
    let l = &r.latency;
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  mean {:.2}; mean body {:.0} B",
        l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.mean_ms, r.mean_body_bytes
    );
    for (name, cpu) in &r.cpu {
        println!(
            "  cpu {name}: {:.2} cores, {:.1} µs/event",
            cpu.cores, cpu.us_per_event
        );
    }
    if !r.errors.is_empty() {
        println!("  errors: {:?}", r.errors);
    }
}

/// Standard base64 with padding (the HTTP Basic credentials of `--import-key`).
fn base64_of(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}
