//! The Kafka ceiling: a raw rdkafka `FutureProducer`, built with the collector's own
//! producer settings (`sinks::kafka::client_config` on the same config file), sends the
//! very records the collector would produce for the load generator's batches (same
//! topics, keys, payloads and headers) as fast as the broker acknowledges them. No HTTP,
//! no decoding: the most events per second the collector could hand to this broker.
//! It follows the config's `routing.records` (and `SIGHTLINE__*` overrides), so it
//! measures whichever record layout the collector would write; events are counted per
//! acknowledged record (a v2 record holds a request's events).
//!
//!   kafka-ceiling --config bench/collector.toml --brokers 127.0.0.1:19492 --duration 15

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Parser;
use futures::{FutureExt, StreamExt, stream::FuturesUnordered};
use rdkafka::{
    error::{KafkaError, RDKafkaErrorCode},
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord, Producer},
};
use sightline_bench::{
    collector_path::{encoded_batches, load_config, records_of, request_facts, unix_ms},
    cpu::{Watched, Window, parse_watched},
    results::KafkaCeilingReport,
    workload::WorkloadConfig,
};
use sightline_collector::{
    config::Config,
    routing::Router,
    sinks::{Record, RecordHeaders, kafka::client_config},
};
use tokio::time::Instant;

/// The collector's allocator (collector/src/main.rs), so this process compares like
/// with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Longest run accepted, warm-up included.
const MAX_RUN_S: u64 = 600;

#[derive(Parser, Debug)]
#[command(about = "Raw rdkafka producer with the collector's settings and records")]
struct Args {
    /// The collector's config file: producer settings, routing, limits.
    #[arg(long)]
    config: PathBuf,
    /// Bootstrap servers (overrides kafka.brokers of the config).
    #[arg(long)]
    brokers: Option<String>,
    /// Measured seconds after the warm-up.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Upper bound on records sent, warm-up included.
    #[arg(long, default_value_t = 50_000_000)]
    max_records: u64,
    /// Batches whose records are cycled through.
    #[arg(long, default_value_t = 2000)]
    pool: usize,
    #[arg(long, default_value_t = WorkloadConfig::default().seed)]
    seed: u64,
    #[arg(long, default_value = "demo")]
    site_key: String,
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also account this process's CPU over the window (NAME=PID, repeatable), e.g. the broker.
    #[arg(long, value_parser = parse_watched)]
    watch: Vec<Watched>,
}

fn headers(h: &RecordHeaders) -> OwnedHeaders {
    // The same headers as the collector's Kafka sink.
    let headers = OwnedHeaders::new_with_capacity(4)
        .insert(Header {
            key: RecordHeaders::SCHEMA,
            value: Some(&*h.schema),
        })
        .insert(Header {
            key: RecordHeaders::KIND,
            value: Some(&*h.kind),
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

/// Events in a record: every delimited event of a v2 record, else one.
fn events_in(record: &Record) -> u64 {
    match &record.headers.layout {
        Some(_) => sightline_proto::record::events(
            sightline_proto::record::Layout::DelimitedV2,
            &record.payload,
        )
        .count() as u64,
        None => 1,
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.warmup + args.duration <= MAX_RUN_S,
        "warm-up + duration over {MAX_RUN_S} s"
    );
    let config = load_config(&args.config, args.brokers.as_ref())?;
    let now_ms = unix_ms();
    let workload = WorkloadConfig {
        seed: args.seed,
        site_key: args.site_key.clone(),
        ..WorkloadConfig::default()
    };
    let router = Router::new(&config.routing);
    let facts = request_facts(&config, now_ms);
    let mut records: Vec<Record> = Vec::new();
    for body in encoded_batches(workload, args.pool.max(1), now_ms) {
        records.extend(records_of(&body, &config, &router, &facts)?);
    }
    anyhow::ensure!(!records.is_empty(), "the workload produced no records");
    let client = client_config(&config.kafka);
    let settings: BTreeMap<String, String> = client
        .config_map()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let producer: FutureProducer = client.create().context("creating the producer")?;
    // Connect and learn the partitions before the clock starts.
    producer
        .client()
        .fetch_metadata(None, Duration::from_secs(10))
        .context("fetching metadata from the brokers")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let mut report = runtime.block_on(produce(&producer, &records, &config, &args));
    report.producer_settings = settings;
    report.layout = format!("{:?}", config.routing.records);
    println!(
        "kafka-ceiling ({}): {:.0} events/s acknowledged ({} events in {} records acked, {} failed, {:.1} s, mean record {:.0} B)",
        report.layout,
        report.events_per_s,
        report.events_acked,
        report.records_acked,
        report.events_failed,
        report.measured_s,
        report.mean_record_bytes
    );
    for (name, cpu) in &report.cpu {
        println!(
            "  cpu {name}: {:.2} cores, {:.1} µs/event",
            cpu.cores, cpu.us_per_event
        );
    }
    if !report.errors.is_empty() {
        println!("  errors: {:?}", report.errors);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Outcomes observed inside the measured window: acknowledgements per second of
/// window is the broker's steady pace, whatever was queued before or after.
struct Tally {
    from: Instant,
    until: Instant,
    /// Events in the acknowledged records.
    acked: u64,
    records: u64,
    failed: u64,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn settle(&mut self, outcome: Option<Result<u64, String>>) {
        let now = Instant::now();
        if now < self.from || now >= self.until {
            return;
        }
        match outcome {
            Some(Ok(events)) => {
                self.acked += events;
                self.records += 1;
            }
            Some(Err(e)) => {
                self.failed += 1;
                *self.errors.entry(e).or_default() += 1;
            }
            None => {}
        }
    }
}

async fn produce(
    producer: &FutureProducer,
    records: &[Record],
    config: &Config,
    args: &Args,
) -> KafkaCeilingReport {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.duration);
    // librdkafka's own queue bound decides how much is in flight, as in the collector.
    let cap = config.kafka.queue_max_messages.max(1) as usize;
    let mut in_flight = FuturesUnordered::new();
    let watch: Vec<Watched> = std::iter::once(Watched {
        name: "kafka-ceiling".into(),
        pid: std::process::id(),
    })
    .chain(args.watch.iter().cloned())
    .collect();
    let mut window: Option<Window> = None;
    let mut cpu = BTreeMap::new();
    let mut tally = Tally {
        from: measure_from,
        until: end,
        acked: 0,
        records: 0,
        failed: 0,
        errors: BTreeMap::new(),
    };
    let events: Vec<u64> = records.iter().map(events_in).collect();
    let (mut bytes, mut sent) = (0u64, 0u64);
    for (record, &events) in records.iter().zip(&events).cycle() {
        let now = Instant::now();
        if window.is_none() && now >= measure_from {
            window = Some(Window::start(&watch));
        }
        if sent >= args.max_records || now >= end {
            if let Some(w) = &window {
                cpu = w.finish(tally.acked, (now - measure_from).as_secs_f64());
            }
            break;
        }
        loop {
            let mut future_record = FutureRecord::<str, [u8]>::to(&record.topic)
                .payload(&record.payload)
                .headers(headers(&record.headers));
            if let Some(key) = &record.key {
                future_record = future_record.key(key.as_str());
            }
            match producer.send_result(future_record) {
                Ok(ack) => {
                    in_flight.push(async move {
                        match ack.await {
                            Ok(Ok(_)) => Ok(events),
                            Ok(Err((e, _))) => Err(e.to_string()),
                            Err(_) => Err("canceled".to_string()),
                        }
                    });
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // Wait for the broker to make room: the ceiling is the broker's pace.
                    if in_flight.is_empty() {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    } else {
                        tally.settle(in_flight.next().await);
                    }
                }
                Err((e, _)) => {
                    tally.settle(Some(Err(e.to_string())));
                    break;
                }
            }
        }
        sent += 1;
        bytes += record.payload.len() as u64;
        // Collect acknowledgements as they arrive, so each is counted in the window it
        // arrived in rather than when the queue happened to be full.
        while let Some(Some(outcome)) = in_flight.next().now_or_never() {
            tally.settle(Some(outcome));
        }
        while in_flight.len() >= cap {
            tally.settle(in_flight.next().await);
        }
    }
    // Let what is queued finish (not counted: it was acknowledged after the window).
    while in_flight.next().await.is_some() {}
    let measured_s = (end - measure_from).as_secs_f64().max(1e-3);
    KafkaCeilingReport {
        measured_s,
        events_acked: tally.acked,
        events_failed: tally.failed,
        events_per_s: tally.acked as f64 / measured_s,
        records_acked: tally.records,
        layout: String::new(),
        mean_record_bytes: bytes as f64 / sent.max(1) as f64,
        errors: tally.errors,
        producer_settings: BTreeMap::new(),
        cpu,
    }
}
