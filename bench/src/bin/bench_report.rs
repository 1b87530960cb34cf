//! Turns the JSON results of one `make bench` run into the markdown table (printed) and
//! bench/RESULTS.md; also turns callgrind_annotate output into the per-event profile.
//!
//!   bench-report table --out bench/out --results bench/RESULTS.md --elapsed-s 600
//!   bench-report profile --callgrind callgrind.out --events 2700 --json profile.json

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sightline_bench::{
    json_baseline::iso8601,
    layouts, profile,
    report::{self, Inputs},
};

/// The hand-written verdict on the levers the layout comparison measured, appended to
/// its section of RESULTS.md (numbers come from the run; decisions from reading them).
const LEVERS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/levers.md");

#[derive(Parser, Debug)]
#[command(about = "Tables and profile summaries for make bench")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the summary table and write RESULTS.md.
    Table {
        /// Directory the bench steps wrote their JSON into.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the full results (markdown).
        #[arg(long)]
        results: Option<PathBuf>,
        /// Wall-clock seconds the whole run took, for the record.
        #[arg(long)]
        elapsed_s: Option<u64>,
    },
    /// Per-event instruction split from a callgrind output file.
    Profile {
        /// The `callgrind.out` file of the hotpath run.
        #[arg(long)]
        callgrind: PathBuf,
        /// Events the profiled workload processed.
        #[arg(long)]
        events: u64,
        #[arg(long)]
        json: PathBuf,
    },
    /// Marginal per-event split of the whole collector process from an idle and a
    /// loaded callgrind run.
    ProcessProfile {
        #[arg(long)]
        idle: PathBuf,
        #[arg(long)]
        loaded: PathBuf,
        /// Events the loaded run accepted.
        #[arg(long)]
        events: u64,
        #[arg(long)]
        json: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Table {
            out,
            results,
            elapsed_s,
        } => {
            let inputs = Inputs::load(&out);
            let table = report::table(&inputs);
            println!("{table}");
            if let Some(path) = results {
                std::fs::write(&path, results_md(&inputs, &table, elapsed_s))
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("(written to {})", path.display());
            }
        }
        Command::Profile {
            callgrind,
            events,
            json,
        } => {
            let text = std::fs::read_to_string(&callgrind)
                .with_context(|| format!("reading {}", callgrind.display()))?;
            let p = profile::split(&profile::parse_callgrind(&text), events, 12);
            for s in &p.stages {
                println!(
                    "  {:<62} {:>10.0} instructions/event ({:.0} %)",
                    s.name,
                    s.instructions_per_event,
                    s.share * 100.0
                );
            }
            std::fs::write(&json, serde_json::to_vec_pretty(&p)?)
                .with_context(|| format!("writing {}", json.display()))?;
        }
        Command::ProcessProfile {
            idle,
            loaded,
            events,
            json,
        } => {
            let read = |path: &PathBuf| {
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
            };
            let p = profile::split_process(
                &profile::parse_callgrind(&read(&idle)?),
                &profile::parse_callgrind(&read(&loaded)?),
                events,
            );
            println!(
                "  whole collector process: {:.0} instructions/event",
                p.instructions_per_event
            );
            for part in &p.parts {
                println!("  {:<90} {:>10.0}", part.name, part.instructions_per_event);
            }
            println!(
                "  {:<90} {:>10.0}",
                "HTTP (hyper), tokio and the rest", p.rest_per_event
            );
            std::fs::write(&json, serde_json::to_vec_pretty(&p)?)
                .with_context(|| format!("writing {}", json.display()))?;
        }
    }
    Ok(())
}

fn results_md(inputs: &Inputs, table: &str, elapsed_s: Option<u64>) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let date = iso8601(now_ms);
    let date = date.split('.').next().unwrap_or(&date);
    let elapsed = elapsed_s.map_or(String::new(), |s| {
        format!(" The whole run took {} min {} s.", s / 60, s % 60)
    });
    let mut md = format!(
        "# Sightline benchmark results\n\n\
         Written by `make bench` (scripts/bench.sh) on {date} UTC.{elapsed}\n\n\
         **Machine:** {}. Everything below ran on this one machine in one run: the load generator, the \
         servers, the Kafka broker and headless Chromium share its cores, so absolute numbers are modest; \
         the ratios compare like with like.\n\n## Summary\n\n{table}\n",
        report::machine()
    );
    if !inputs.layouts.is_empty() {
        md.push_str(&format!(
            "## Record layouts side by side\n\n\
             Today's layout (`routing.records = \"per_event\"`: one record per event on the kind topics, record layout v1) \
             against the new default (`per_batch`: one record per request on `sightline.events`, its events \
             length-delimited, layout v2; proto/README.md, \"Kafka record contract\"), alternating rounds in this run, \
             same broker, same load generator and bodies. Collector and broker CPU per event are whole-process CPU \
             over the saturation window divided by the events acknowledged in it; bytes per event are the growth of the \
             broker's log segments during the variant's collector runs divided by the events the collector accepted \
             (`events_accepted_total`). The raw-producer ceiling sends the same layout's records.\n\n{}\n\
             ### Every variant\n\n\
             Levers are variants of the new layout run once each (`per_kind`: one v2 record per request and kind on \
             the kind topics; `:zstd`: compression.type zstd instead of lz4; `:linger_N`: linger.ms N instead of 5).\n\n{}\n",
            layouts::table(&inputs.layouts),
            layouts::variants_table(&inputs.layouts),
        ));
        if let Ok(levers) = std::fs::read_to_string(LEVERS_MD) {
            md.push_str(&levers);
            md.push('\n');
        }
    }
    md.push_str(&report::findings(inputs));
    md.push_str(METHOD);
    md.push_str("\n## Load runs\n\n");
    md.push_str(&report::runs_table(inputs));
    if let Some(k) = &inputs.kafka {
        md.push_str(&format!(
            "\nKafka ceiling: {} events/s acknowledged over {:.1} s ({} acked, {} failed), mean record {:.0} B. \
             Producer settings (the collector's `client_config`, same file):\n\n```\n{}\n```\n",
            report::thousands(k.events_per_s),
            k.measured_s,
            k.events_acked,
            k.events_failed,
            k.mean_record_bytes,
            k.producer_settings.iter().map(|(a, b)| format!("{a}={b}")).collect::<Vec<_>>().join("\n")
        ));
        for (name, cpu) in &k.cpu {
            md.push_str(&format!(
                "\nCPU during the Kafka ceiling, {name}: {:.2} cores, {:.1} µs per event.\n",
                cpu.cores, cpu.us_per_event
            ));
        }
    }
    md.push_str("\n## Profile of the hot path\n\n");
    md.push_str("### The hot path, step by step\n\n");
    md.push_str(&report::profile_section(&inputs.profile));
    md.push_str(&report::process_profile_section(&inputs.process_profile));
    md.push_str("\n## SDK details\n\n");
    if let Some(p) = &inputs.sdk_page {
        md.push_str(&format!(
            "{} runs of each variant (medians reported); session script {:.1} s. Files the page fetched for the SDK:\n\n\
             | File | Bytes | gzip -9 | brotli -q 11 |\n|---|---|---|---|\n",
            p.runs,
            p.session_ms / 1000.0
        ));
        for f in &p.files {
            md.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                f.name, f.bytes, f.gzip, f.brotli
            ));
        }
        for note in &p.notes {
            md.push_str(&format!("\n- {note}"));
        }
        md.push('\n');
    } else {
        md.push_str("The SDK step did not produce results in this run (see the bench log).\n");
    }
    if let Some(w) = &inputs.sdk_wire {
        md.push_str(&format!(
            "\nRecorded requests (all runs with the SDK): {} requests, {} events ({} distinct ids, {} undecodable bodies). \
             Events by kind: {}.\n",
            w.requests,
            w.events,
            w.unique_events,
            w.undecodable,
            w.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
        ));
    }
    md
}

const METHOD: &str = "
## How it was measured

- **Load generator** (`bench/src/bin/loadgen.rs`): tokio + hyper HTTP/1.1 keep-alive connections, \
realistic protobuf `Batch`es (1–100 events, mean ≈ 14, all eight kinds, 20 000 visitors, 30 % identified), \
`X-Forwarded-For` from 4 096 /24 networks (the collector trusts loopback as its load balancer, so its \
per-IP limiter and IP truncation run as in production). Saturation is a closed-loop run; the 50 % / 80 % runs are \
open-loop at that fraction of the saturation request rate, latency counted from each request's scheduled \
time (no coordinated omission), hdrhistogram percentiles.
- **HTTP ceiling** (`http-ceiling`): bare hyper 1 server on the same runtime defaults that reads the body and \
answers 204 — the most any hyper server takes from this load generator here.
- **Kafka ceiling** (`kafka-ceiling`): raw rdkafka `FutureProducer` built with the collector's own \
`client_config` from the same config file (acks=all, idempotence, lz4, linger 5 ms, murmur2_random) and the \
collector's global allocator (mimalloc for Rust allocations; librdkafka keeps glibc malloc in both) sending \
exactly the records the collector produces for the same batches (its `decode` → `process` → `route`), \
counting acknowledgements per second.
- **Collector** runs with `bench/collector.toml` (defaults except no per-site cap); peak RSS is `VmHWM` \
from `/proc/PID/status` after all its runs.
- **SDK** (`bench/sdk/bench.mjs`): playwright-core driving /usr/bin/chromium headless through one scripted \
session (clicks, scrolls, hovers, ad slots, SPA navigations, a custom event, then page hide) with and without the \
SDK; main-thread time from CDP `Performance.getMetrics` (TaskDuration, ScriptDuration) before/after the session, \
long tasks from a `PerformanceObserver`, requests recorded by the bench server; bytes per event and the JSON \
baseline (Segment-style batch, one object per event with its context) by `sdk-wire` from the recorded bodies.
";
