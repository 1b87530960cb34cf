//! Reads the request bodies the SDK bench recorded (one file per request) and reports
//! what they carried: events, kinds, bytes per event, and the same events encoded as a
//! JSON tracker would send them (the baseline).
//!
//!   sdk-wire --bodies bench/out/sdk-bodies --json bench/out/sdk-wire.json

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use anyhow::Context;
use clap::Parser;
use prost::Message;
use sightline_bench::{
    json_baseline::{gzip_len, segment_batch},
    results::SdkWireReport,
};
use sightline_proto::v1::Batch;

#[derive(Parser, Debug)]
#[command(about = "Bytes per event of recorded SDK requests vs a JSON tracker")]
struct Args {
    /// Directory of recorded bodies (*.bin, one per request).
    #[arg(long)]
    bodies: PathBuf,
    /// User-Agent the JSON baseline puts into each event's context.
    #[arg(
        long,
        default_value = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36"
    )]
    user_agent: String,
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the JSON-tracker form of the first recorded batch here, for inspection.
    #[arg(long)]
    example: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&args.bodies)
        .with_context(|| format!("reading {}", args.bodies.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    paths.sort();
    let mut report = SdkWireReport::default();
    let (mut gzip_bytes, mut json_bytes, mut json_gzip_bytes) = (0u64, 0u64, 0u64);
    let mut ids = BTreeSet::new();
    let mut highest_seq: BTreeMap<String, u64> = BTreeMap::new();
    for path in &paths {
        let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        report.requests += 1;
        report.body_bytes += body.len() as u64;
        gzip_bytes += gzip_len(&body) as u64;
        let Ok(batch) = Batch::decode(&body[..]) else {
            report.undecodable += 1;
            continue;
        };
        let page_session = batch
            .identity
            .as_ref()
            .map(|i| i.page_session_id.clone())
            .unwrap_or_default();
        for event in &batch.events {
            let seq = highest_seq.entry(page_session.clone()).or_default();
            *seq = (*seq).max(event.seq);
            report.events += 1;
            ids.insert(event.event_id.clone());
            let kind = sightline_proto::kind_of(event.kind.as_ref())
                .as_str_name()
                .to_ascii_lowercase();
            let kind = kind.trim_start_matches("event_kind_").to_string();
            *report.kinds.entry(kind).or_default() += 1;
        }
        let value = segment_batch(&batch, &args.user_agent);
        if let Some(path) = args.example.as_ref().filter(|_| report.requests == 1) {
            std::fs::write(path, serde_json::to_vec_pretty(&value)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let json = serde_json::to_vec(&value)?;
        json_bytes += json.len() as u64;
        json_gzip_bytes += gzip_len(&json) as u64;
    }
    report.unique_events = ids.len() as u64;
    report.page_sessions = highest_seq.len() as u64;
    report.captured_events = highest_seq.values().sum();
    let per_event = |n: u64| n as f64 / report.events.max(1) as f64;
    report.protobuf_bytes_per_event = per_event(report.body_bytes);
    report.protobuf_gzip_bytes_per_event = per_event(gzip_bytes);
    report.json_bytes_per_event = per_event(json_bytes);
    report.json_gzip_bytes_per_event = per_event(json_gzip_bytes);
    println!(
        "sdk-wire: {} requests, {} events ({} unique), {:.0} B/event protobuf ({:.0} gzip) vs {:.0} B/event JSON ({:.0} gzip)",
        report.requests,
        report.events,
        report.unique_events,
        report.protobuf_bytes_per_event,
        report.protobuf_gzip_bytes_per_event,
        report.json_bytes_per_event,
        report.json_gzip_bytes_per_event
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
