//! The one markdown table of `make bench`, and bench/RESULTS.md around it.
//!
//! Every input is optional: a step that failed leaves its cell "n/a" and the rest of the
//! table stands. A benchmark reports numbers; it never fails on them.

use std::{collections::BTreeMap, path::Path};

use serde::de::DeserializeOwned;

use crate::{
    profile::{ProcessProfile, Profile},
    results::{KafkaCeilingReport, LoadReport, SdkPageReport, SdkWireReport},
};

/// Everything one run of scripts/bench.sh wrote into its output directory.
#[derive(Debug, Default)]
pub struct Inputs {
    pub http: Option<LoadReport>,
    pub http_gzip: Option<LoadReport>,
    pub http_50: Option<LoadReport>,
    pub http_80: Option<LoadReport>,
    pub kafka: Option<KafkaCeilingReport>,
    pub collector: Option<LoadReport>,
    pub collector_50: Option<LoadReport>,
    pub collector_80: Option<LoadReport>,
    pub collector_gzip: Option<LoadReport>,
    pub collector_gzip_50: Option<LoadReport>,
    pub collector_gzip_80: Option<LoadReport>,
    /// The same events as Segment-spec JSON batches to the import API (issue 19).
    pub collector_json: Option<LoadReport>,
    pub collector_rss_kb: Option<u64>,
    pub profile: Option<Profile>,
    pub process_profile: Option<ProcessProfile>,
    pub sdk_page: Option<SdkPageReport>,
    pub sdk_wire: Option<SdkWireReport>,
    /// Record layouts side by side (`layout-*.json`).
    pub layouts: crate::layouts::Layouts,
    /// sightline-decide's `/v1/decide` beside the collector's `/healthz` (`decide.json`,
    /// written by `decide-load`, issue 22).
    pub decide: Option<DecideLatency>,
}

/// One latency run of `decide-load`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DecideRun {
    pub offered_rps: f64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// `decide-load`'s report: the decision service and the baseline at the same rate.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DecideLatency {
    pub decide: DecideRun,
    pub baseline: DecideRun,
    pub p99_ratio: f64,
    pub profiled_visitors: u32,
}

fn read<T: DeserializeOwned>(dir: &Path, name: &str) -> Option<T> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Inputs {
    pub fn load(dir: &Path) -> Self {
        Self {
            http: read(dir, "http-ceiling.json"),
            http_gzip: read(dir, "http-ceiling-gzip.json"),
            http_50: read(dir, "http-ceiling-50.json"),
            http_80: read(dir, "http-ceiling-80.json"),
            kafka: read(dir, "kafka-ceiling.json"),
            collector: read(dir, "collector.json"),
            collector_50: read(dir, "collector-50.json"),
            collector_80: read(dir, "collector-80.json"),
            collector_gzip: read(dir, "collector-gzip.json"),
            collector_gzip_50: read(dir, "collector-gzip-50.json"),
            collector_gzip_80: read(dir, "collector-gzip-80.json"),
            collector_json: read(dir, "collector-json.json"),
            collector_rss_kb: std::fs::read_to_string(dir.join("collector-rss-kb.txt"))
                .ok()
                .and_then(|t| t.trim().parse().ok()),
            profile: read(dir, "profile.json"),
            process_profile: read(dir, "process-profile.json"),
            sdk_page: read(dir, "sdk.json"),
            sdk_wire: read(dir, "sdk-wire.json"),
            layouts: crate::layouts::Layouts::load(dir),
            decide: read(dir, "decide.json"),
        }
    }

    fn collector_runs(&self) -> impl Iterator<Item = &LoadReport> {
        [
            &self.collector,
            &self.collector_50,
            &self.collector_80,
            &self.collector_gzip,
            &self.collector_gzip_50,
            &self.collector_gzip_80,
        ]
        .into_iter()
        .flatten()
    }
}

const NA: &str = "n/a";

/// 12345.6 → "12 346".
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return NA.into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 && a.is_finite() => Some(a / b),
        _ => None,
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or(NA.into(), |r| format!("{r:.2}"))
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or(NA.into(), |v| format!("{v:.2} ms"))
}

fn target(text: &str, met: Option<bool>) -> String {
    match met {
        Some(true) => format!("{text} (met)"),
        Some(false) => format!("{text} (**missed**)"),
        None => text.into(),
    }
}

fn eps(r: &Option<LoadReport>) -> Option<f64> {
    r.as_ref().map(|r| r.events_per_s)
}

fn p99(r: &Option<LoadReport>) -> Option<f64> {
    r.as_ref().map(|r| r.latency.p99_ms)
}

fn throughput_cell(r: &Option<LoadReport>) -> String {
    r.as_ref().map_or(NA.into(), |r| {
        format!(
            "{} ev/s ({} req/s)",
            thousands(r.events_per_s),
            thousands(r.requests_per_s)
        )
    })
}

fn rate_of(r: &Option<LoadReport>) -> String {
    r.as_ref()
        .and_then(|r| r.offered_rps)
        .map_or(String::new(), |rps| {
            format!(", {} req/s offered", thousands(rps))
        })
}

/// The table `make bench` prints.
pub fn table(i: &Inputs) -> String {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let kafka_eps = i.kafka.as_ref().map(|k| k.events_per_s);
    let kafka_cell = i.kafka.as_ref().map_or(NA.into(), |k| {
        format!("Kafka ceiling: {} ev/s", thousands(k.events_per_s))
    });
    let http_cell = |r: &Option<LoadReport>, what: &str| {
        r.as_ref().map_or(NA.into(), |r| {
            format!("{what}: {} ev/s", thousands(r.events_per_s))
        })
    };

    let kafka_ratio = ratio(eps(&i.collector), kafka_eps);
    rows.push([
        format!(
            "Collector saturation (closed loop{}), protobuf",
            i.collector.as_ref().map_or(String::new(), |r| format!(
                ", best of the sweep: {} connections",
                r.concurrency
            ))
        ),
        throughput_cell(&i.collector),
        http_cell(&i.http, "HTTP ceiling (bare hyper, 204)"),
        fmt_ratio(ratio(eps(&i.collector), eps(&i.http))),
        String::new(),
    ]);
    rows.push([
        "Collector saturation vs Kafka ceiling (enrichment + IVT on, as shipped)".into(),
        eps(&i.collector).map_or(NA.into(), |e| format!("{} ev/s", thousands(e))),
        kafka_cell.clone(),
        fmt_ratio(kafka_ratio),
        target("≥ 0.70", kafka_ratio.map(|r| r >= 0.7)),
    ]);
    enrichment_row(i, &mut rows);
    rows.push([
        "Collector saturation, JSON import (Segment batches, same events)".into(),
        throughput_cell(&i.collector_json),
        eps(&i.collector).map_or(NA.into(), |e| format!("protobuf: {} ev/s", thousands(e))),
        fmt_ratio(ratio(eps(&i.collector_json), eps(&i.collector))),
        String::new(),
    ]);
    let cpu_of = |r: Option<&std::collections::BTreeMap<String, crate::cpu::CpuUse>>,
                  name: &str| {
        r.and_then(|m| m.get(name))
            .map(|c| (c.us_per_event, c.cores))
    };
    let collector_cpu = cpu_of(i.collector.as_ref().map(|r| &r.cpu), "collector");
    let producer_cpu = cpu_of(i.kafka.as_ref().map(|k| &k.cpu), "kafka-ceiling");
    let fmt_cpu = |c: Option<(f64, f64)>, what: &str| {
        c.map_or(NA.into(), |(us, cores)| {
            format!("{what}{us:.1} µs/event ({cores:.2} cores)")
        })
    };
    rows.push([
        "CPU per event at saturation (whole process)".into(),
        fmt_cpu(collector_cpu, "collector: "),
        fmt_cpu(producer_cpu, "raw producer: "),
        fmt_ratio(ratio(collector_cpu.map(|c| c.0), producer_cpu.map(|c| c.0))),
        String::new(),
    ]);
    let broker_collector = cpu_of(i.collector.as_ref().map(|r| &r.cpu), "broker");
    let broker_ceiling = cpu_of(i.kafka.as_ref().map(|k| &k.cpu), "broker");
    rows.push([
        "Kafka broker CPU per event (same broker, both runs)".into(),
        fmt_cpu(broker_collector, "collector run: "),
        fmt_cpu(broker_ceiling, "Kafka ceiling run: "),
        fmt_ratio(ratio(
            broker_collector.map(|c| c.0),
            broker_ceiling.map(|c| c.0),
        )),
        String::new(),
    ]);
    let gzip_kafka_ratio = ratio(eps(&i.collector_gzip), kafka_eps);
    rows.push([
        "Collector saturation, gzip bodies".into(),
        throughput_cell(&i.collector_gzip),
        http_cell(&i.http_gzip, "HTTP ceiling, gzip bodies"),
        fmt_ratio(ratio(eps(&i.collector_gzip), eps(&i.http_gzip))),
        String::new(),
    ]);
    rows.push([
        "Collector saturation, gzip, vs Kafka ceiling".into(),
        eps(&i.collector_gzip).map_or(NA.into(), |e| format!("{} ev/s", thousands(e))),
        kafka_cell,
        fmt_ratio(gzip_kafka_ratio),
        target("≥ 0.70", gzip_kafka_ratio.map(|r| r >= 0.7)),
    ]);
    for (label, run, ceiling, goal) in [
        (
            "p99 latency at 50 % of saturation",
            &i.collector_50,
            &i.http_50,
            true,
        ),
        (
            "p99 latency at 80 % of saturation",
            &i.collector_80,
            &i.http_80,
            false,
        ),
    ] {
        let met = if goal {
            p99(run).map(|p| p < 20.0)
        } else {
            None
        };
        rows.push([
            format!("{label}{}", rate_of(run)),
            fmt_ms(p99(run)),
            ceiling.as_ref().map_or(NA.into(), |c| {
                format!("HTTP ceiling, same rate: {:.2} ms", c.latency.p99_ms)
            }),
            fmt_ratio(ratio(p99(run), p99(ceiling))),
            if goal {
                target("< 20 ms", met)
            } else {
                String::new()
            },
        ]);
    }
    for (label, run, goal) in [
        (
            "p99 latency at 50 % of saturation, gzip",
            &i.collector_gzip_50,
            true,
        ),
        (
            "p99 latency at 80 % of saturation, gzip",
            &i.collector_gzip_80,
            false,
        ),
    ] {
        let met = if goal {
            p99(run).map(|p| p < 20.0)
        } else {
            None
        };
        rows.push([
            format!("{label}{}", rate_of(run)),
            fmt_ms(p99(run)),
            String::new(),
            String::new(),
            if goal {
                target("< 20 ms", met)
            } else {
                String::new()
            },
        ]);
    }
    let rss_mb = i.collector_rss_kb.map(|kb| kb as f64 / 1024.0);
    let others: Vec<f64> = i
        .collector_runs()
        .filter_map(|r| r.cpu.get(crate::cpu::OTHERS).map(|c| c.cores))
        .collect();
    rows.push([
        "Other processes on the machine during the collector runs (noise)".into(),
        if others.is_empty() {
            NA.into()
        } else {
            format!(
                "{:.2} cores on average (max {:.2})",
                others.iter().sum::<f64>() / others.len() as f64,
                others.iter().copied().fold(0.0, f64::max)
            )
        },
        format!(
            "of {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        String::new(),
        String::new(),
    ]);
    rows.push([
        "Collector peak RSS (VmHWM over all its runs)".into(),
        rss_mb.map_or(NA.into(), |mb| format!("{mb:.1} MB")),
        String::new(),
        String::new(),
        target("< 100 MB", rss_mb.map(|mb| mb < 100.0)),
    ]);
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut runs = 0;
    for run in i.collector_runs() {
        runs += 1;
        for (status, n) in &run.errors {
            *failures.entry(status.clone()).or_default() += n;
        }
    }
    rows.push([
        "Failed requests, all collector runs".into(),
        if runs == 0 {
            NA.into()
        } else if failures.is_empty() {
            "0".into()
        } else {
            failures
                .iter()
                .map(|(s, n)| format!("{n}× {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        String::new(),
        String::new(),
        String::new(),
    ]);
    if let Some(p) = &i.profile {
        let total: f64 = p.stages.iter().map(|s| s.instructions_per_event).sum();
        let parts = p
            .stages
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    short_stage(&s.name),
                    thousands(s.instructions_per_event)
                )
            })
            .collect::<Vec<_>>()
            .join(" · ");
        rows.push([
            "Instructions per event (callgrind, hot path)".into(),
            format!("{} total", thousands(total)),
            parts,
            String::new(),
            String::new(),
        ]);
    } else {
        rows.push([
            "Instructions per event (callgrind, hot path)".into(),
            NA.into(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    if let Some(p) = &i.process_profile {
        let part = |prefix: &str| {
            p.parts
                .iter()
                .find(|s| s.name.trim_start().starts_with(prefix))
                .map_or(NA.into(), |s| thousands(s.instructions_per_event))
        };
        rows.push([
            "Instructions per event, whole collector process (callgrind, idle run subtracted)"
                .into(),
            format!("{} total", thousands(p.instructions_per_event)),
            format!(
                "handler {} · librdkafka {} · HTTP/tokio/rest {}",
                part("request handler"),
                part("librdkafka"),
                thousands(p.rest_per_event)
            ),
            String::new(),
            String::new(),
        ]);
    }
    decide_row(i, &mut rows);
    sdk_rows(i, &mut rows);

    let mut out = String::from(
        "| Measure | Sightline | Compared with | Ratio | Target |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// The ad-decision service's latency at a fixed rate, against the cheapest round trip a
/// hyper service gives on this machine in the same run (issue 22's goal: p99 < 10 ms).
fn decide_row(i: &Inputs, rows: &mut Vec<[String; 5]>) {
    let Some(d) = &i.decide else {
        rows.push([
            "Ad decision p99 (sightline-decide `/v1/decide`, beside the collector)".into(),
            NA.into(),
            NA.into(),
            NA.into(),
            target("p99 < 10 ms", None),
        ]);
        return;
    };
    rows.push([
        format!(
            "Ad decision latency at {} req/s open loop ({} profiled visitors; {} ok, {} failed)",
            thousands(d.decide.offered_rps),
            thousands(f64::from(d.profiled_visitors)),
            d.decide.requests_ok,
            d.decide.requests_failed
        ),
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            d.decide.p50_ms, d.decide.p99_ms
        ),
        format!(
            "collector `/healthz` at the same rate: p50 {:.2} ms, p99 {:.2} ms",
            d.baseline.p50_ms, d.baseline.p99_ms
        ),
        fmt_ratio(Some(d.p99_ratio)),
        target(
            "p99 < 10 ms",
            Some(d.decide.p99_ms < 10.0 && d.decide.requests_failed == 0),
        ),
    ]);
}

/// The cost of edge enrichment and IVT classification (issue 17): their instructions per
/// event against the whole collector process's (else the hot path's), and the share of
/// throughput the collector keeps with them on, 1 − share, since the collector is bound by
/// its own CPU (the bar: ≥ 0.8 of what it would do without them).
fn enrichment_row(i: &Inputs, rows: &mut Vec<[String; 5]>) {
    let stage = i.profile.as_ref().and_then(|p| {
        p.stages
            .iter()
            .find(|s| s.name.starts_with("enrich"))
            .map(|s| s.instructions_per_event)
    });
    let (whole, what) = match (&i.process_profile, &i.profile) {
        (Some(p), _) => (Some(p.instructions_per_event), "whole collector process"),
        (None, Some(p)) => (
            Some(p.stages.iter().map(|s| s.instructions_per_event).sum()),
            "hot path",
        ),
        (None, None) => (None, "whole collector process"),
    };
    let kept = ratio(stage, whole).map(|share| 1.0 - share);
    rows.push([
        "Enrichment + IVT classification per event (callgrind; ratio = throughput kept, 1 − share)"
            .into(),
        stage.map_or(NA.into(), |s| format!("{} instructions", thousands(s))),
        whole.map_or(NA.into(), |w| {
            format!("{what}: {} instructions", thousands(w))
        }),
        fmt_ratio(kept),
        target("≥ 0.80", kept.map(|k| k >= 0.8)),
    ]);
}

fn short_stage(name: &str) -> &str {
    match name.split_once(' ') {
        Some((first, _)) if first.ends_with(':') => name.split_once(" (").map_or(name, |(n, _)| n),
        Some((first, _)) => first,
        None => name,
    }
}

fn sdk_rows(i: &Inputs, rows: &mut Vec<[String; 5]>) {
    let page = i.sdk_page.as_ref();
    let files = page.map(|p| &p.files);
    let sum = |f: fn(&crate::results::SdkFile) -> u64| {
        files
            .filter(|f| !f.is_empty())
            .map(|fs| fs.iter().map(f).sum::<u64>())
    };
    let kb = |b: Option<u64>| b.map_or(NA.into(), |b| format!("{:.1} KB", b as f64 / 1024.0));
    let gzip = sum(|f| f.gzip);
    rows.push([
        "SDK download, gzip -9 (every file the page fetched)".into(),
        kb(gzip),
        kb(sum(|f| f.bytes)).replace(" KB", " KB raw"),
        String::new(),
        target("≤ 24 KB (SDK budget)", gzip.map(|g| g <= 24 * 1024)),
    ]);
    rows.push([
        "SDK download, brotli -q 11".into(),
        kb(sum(|f| f.brotli)),
        String::new(),
        String::new(),
        String::new(),
    ]);
    let (with, without) = (page.map(|p| &p.with_sdk), page.map(|p| &p.without_sdk));
    let added = |f: fn(&crate::results::PageCost) -> f64| match (with, without) {
        (Some(w), Some(o)) => Some(f(w) - f(o)),
        _ => None,
    };
    rows.push([
        "Main-thread time added per session (CDP TaskDuration, with − without SDK)".into(),
        fmt_ms(added(|c| c.task_ms)),
        without.map_or(NA.into(), |o| {
            format!("page without SDK: {:.1} ms", o.task_ms)
        }),
        fmt_ratio(ratio(with.map(|w| w.task_ms), without.map(|o| o.task_ms))),
        String::new(),
    ]);
    rows.push([
        "Script time added per session (CDP ScriptDuration)".into(),
        fmt_ms(added(|c| c.script_ms)),
        without.map_or(NA.into(), |o| {
            format!("page without SDK: {:.1} ms", o.script_ms)
        }),
        String::new(),
        String::new(),
    ]);
    rows.push([
        "Long tasks (≥ 50 ms) per session".into(),
        with.map_or(NA.into(), |w| {
            format!("{:.1} ({:.0} ms)", w.long_tasks, w.long_task_ms)
        }),
        without.map_or(NA.into(), |o| {
            format!(
                "without SDK: {:.1} ({:.0} ms)",
                o.long_tasks, o.long_task_ms
            )
        }),
        String::new(),
        String::new(),
    ]);
    rows.push([
        "Requests sent per session".into(),
        page.map_or(NA.into(), |p| format!("{:.1}", p.requests_per_session)),
        String::new(),
        String::new(),
        String::new(),
    ]);
    let wire = i.sdk_wire.as_ref();
    rows.push([
        "Bytes on the wire per event (request body)".into(),
        wire.map_or(NA.into(), |w| {
            format!("{:.0} B protobuf", w.protobuf_bytes_per_event)
        }),
        wire.map_or(NA.into(), |w| {
            format!("JSON tracker: {:.0} B", w.json_bytes_per_event)
        }),
        fmt_ratio(ratio(
            wire.map(|w| w.protobuf_bytes_per_event),
            wire.map(|w| w.json_bytes_per_event),
        )),
        String::new(),
    ]);
    rows.push([
        "Bytes per event if both were gzipped".into(),
        wire.map_or(NA.into(), |w| {
            format!("{:.0} B", w.protobuf_gzip_bytes_per_event)
        }),
        wire.map_or(NA.into(), |w| {
            format!("JSON tracker, gzip: {:.0} B", w.json_gzip_bytes_per_event)
        }),
        fmt_ratio(ratio(
            wire.map(|w| w.protobuf_gzip_bytes_per_event),
            wire.map(|w| w.json_gzip_bytes_per_event),
        )),
        String::new(),
    ]);
    let sessions = page.map(|p| f64::from(p.runs.max(1)));
    let delivered = wire.zip(sessions).map(|(w, n)| w.unique_events as f64 / n);
    let expected = wire
        .zip(sessions)
        .map(|(w, n)| w.captured_events as f64 / n);
    let share = ratio(delivered, expected);
    rows.push([
        "Delivered / captured events per session".into(),
        match (delivered, expected) {
            (Some(d), Some(e)) => format!("{d:.1} / {e:.1}"),
            _ => NA.into(),
        },
        String::new(),
        fmt_ratio(share),
        target("1.00", share.map(|s| s >= 0.999)),
    ]);
}

/// Findings stated from this run's numbers (each only when its inputs exist).
pub fn findings(i: &Inputs) -> String {
    let mut out = Vec::new();
    if let (Some(c), Some(k)) = (&i.collector, &i.kafka) {
        out.push(format!(
            "The collector sustains {} events/s answered only after Kafka acknowledged them: {:.2} of the raw producer's {} events/s \
             on the same broker (target 0.70){}.",
            thousands(c.events_per_s),
            c.events_per_s / k.events_per_s.max(1.0),
            thousands(k.events_per_s),
            i.http
                .as_ref()
                .map_or(String::new(), |h| format!(", and {:.2} of what a bare hyper server accepts", c.events_per_s / h.events_per_s.max(1.0)))
        ));
        if let (Some(cc), Some(kc)) = (c.cpu.get("collector"), k.cpu.get("kafka-ceiling")) {
            let broker = match (c.cpu.get("broker"), k.cpu.get("broker")) {
                (Some(a), Some(b)) => format!(
                    "; the broker spends {:.1} µs per event for the collector's records against {:.1} µs for the raw producer's, \
                     consistent with smaller produce requests (the collector only has its in-flight requests' records queued, \
                     the raw producer up to queue.buffering.max.messages)",
                    a.us_per_event, b.us_per_event
                ),
                _ => String::new(),
            };
            out.push(format!(
                "CPU per event at saturation: collector {:.1} µs (HTTP, decode, validate, encode and produce) against {:.1} µs for the \
                 raw producer alone{broker}.",
                cc.us_per_event, kc.us_per_event
            ));
        }
    }
    if let (Some(half), Some(most)) = (&i.collector_50, &i.collector_80) {
        out.push(format!(
            "Latency at a steady offered load: p99 {:.1} ms at 50 % of saturation (target < 20 ms) and {:.1} ms at 80 % \
             (p50 {:.1} / {:.1} ms); with gzip bodies {}.",
            half.latency.p99_ms,
            most.latency.p99_ms,
            half.latency.p50_ms,
            most.latency.p50_ms,
            match (&i.collector_gzip_50, &i.collector_gzip_80) {
                (Some(a), Some(b)) => format!("{:.1} and {:.1} ms", a.latency.p99_ms, b.latency.p99_ms),
                _ => NA.to_string(),
            }
        ));
    }
    if let Some(p) = &i.profile {
        let path: f64 = p.stages.iter().map(|s| s.instructions_per_event).sum();
        if let Some(top) = p.stages.iter().max_by(|a, b| a.share.total_cmp(&b.share)) {
            out.push(format!(
                "Callgrind, per event on the hot path ({} instructions): the largest step is {} ({:.0} %); decode, validate and \
                 encode are each {}.",
                thousands(path),
                top.name,
                top.share * 100.0,
                p.stages
                    .iter()
                    .take(3)
                    .map(|s| format!("{:.0} %", s.share * 100.0))
                    .collect::<Vec<_>>()
                    .join(" / ")
            ));
        }
        let get = |prefix: &str| p.notable.iter().find(|n| n.name.starts_with(prefix));
        if let (Some(alloc), Some(mem)) = (get("heap allocator"), get("memset")) {
            let how_much = if alloc.share + mem.share > 0.5 {
                "most"
            } else {
                "much"
            };
            out.push(format!(
                "Across steps, the heap allocator is {:.0} % of all instructions and memset/memcpy {:.0} %: {how_much} of the cost is \
                 moving and allocating bytes, not protobuf logic (varints: {:.0} %).",
                alloc.share * 100.0,
                mem.share * 100.0,
                get("protobuf varints").map_or(0.0, |v| v.share * 100.0)
            ));
        }
        if let (Some(setup), Some(lz4)) = (
            get("librdkafka LZ4 frame setup"),
            get("LZ4 compression proper"),
        ) {
            out.push(format!(
                "librdkafka sets up a fresh LZ4 frame context (calloc + memset) for every message set: {} instructions per event, \
                 against {} for compressing itself. The fewer and fuller the message sets, the less of it per event: the default \
                 record layout (one record per request, see the layout comparison) already fills them with a request's events; \
                 a longer linger.ms would fill them further at the cost of latency.",
                thousands(setup.instructions_per_event),
                thousands(lz4.instructions_per_event)
            ));
        }
    }
    if let Some(p) = &i.process_profile {
        out.push(format!(
            "The whole collector process costs {} instructions per event; HTTP (hyper), tokio, connection handling and \
             what callgrind did not attribute to the request handler are {} of them ({:.0} %).",
            thousands(p.instructions_per_event),
            thousands(p.rest_per_event),
            p.rest_per_event / p.instructions_per_event.max(1.0) * 100.0
        ));
    }
    if let Some(w) = &i.sdk_wire {
        out.push(format!(
            "On the wire the SDK sends {:.0} bytes per event against {:.0} for the same events as a JSON tracker's batch \
             ({:.2}×); gzip would narrow that to {:.0} against {:.0} bytes.",
            w.protobuf_bytes_per_event,
            w.json_bytes_per_event,
            w.protobuf_bytes_per_event / w.json_bytes_per_event.max(1.0),
            w.protobuf_gzip_bytes_per_event,
            w.json_gzip_bytes_per_event
        ));
    }
    if out.is_empty() {
        return String::new();
    }
    let mut text = String::from("## Findings\n\n");
    for line in out {
        text.push_str(&format!("- {line}\n"));
    }
    text
}

/// Description of this machine for RESULTS.md.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let memory_gb = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or("unknown".to_string(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores (nproc), {model}, {memory_gb} memory, Linux {}",
        kernel.trim()
    )
}

fn run_line(name: &str, r: &Option<LoadReport>) -> String {
    let Some(r) = r else {
        return format!("| {name} | {NA} | | | | | | | | |\n");
    };
    let cpu = r
        .cpu
        .iter()
        .map(|(n, c)| format!("{n} {:.2} cores, {:.1} µs/ev", c.cores, c.us_per_event))
        .collect::<Vec<_>>()
        .join("; ");
    let errors = if r.errors.is_empty() {
        "0".to_string()
    } else {
        r.errors
            .iter()
            .map(|(s, n)| format!("{n}× {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "| {name} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {errors} | {cpu} |\n",
        r.offered_rps
            .map_or("closed loop".into(), |o| format!("{} req/s", thousands(o))),
        thousands(r.requests_per_s),
        thousands(r.events_per_s),
        r.latency.p50_ms,
        r.latency.p90_ms,
        r.latency.p99_ms,
        r.latency.max_ms,
    )
}

/// The load runs one per line, with all percentiles.
pub fn runs_table(i: &Inputs) -> String {
    let mut out = String::from(
        "| Run | Offered | req/s | events/s | p50 ms | p90 ms | p99 ms | max ms | failed | CPU over the window |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, run) in [
        ("HTTP ceiling, saturation", &i.http),
        ("HTTP ceiling, gzip, saturation", &i.http_gzip),
        ("HTTP ceiling at collector's 50 %", &i.http_50),
        ("HTTP ceiling at collector's 80 %", &i.http_80),
        ("Collector, saturation", &i.collector),
        ("Collector, 50 %", &i.collector_50),
        ("Collector, 80 %", &i.collector_80),
        ("Collector, gzip, saturation", &i.collector_gzip),
        ("Collector, gzip, 50 %", &i.collector_gzip_50),
        ("Collector, gzip, 80 %", &i.collector_gzip_80),
    ] {
        out.push_str(&run_line(name, run));
    }
    out
}

/// The whole-process part of the profile section.
pub fn process_profile_section(p: &Option<ProcessProfile>) -> String {
    let Some(p) = p else {
        return "\nThe whole-collector profile did not complete in this run (see the bench log).\n"
            .into();
    };
    let mut out = format!(
        "\n### The whole collector process\n\n`sightline-collector` itself under callgrind, once idle (start, ready, stop) and once \
         under a small fixed load (300 requests, 8 connections, {} events accepted); the difference per event is what \
         an event costs the process, HTTP and runtime included: **{} instructions per event**.\n\n\
         | Part | Instructions per event | Share |\n|---|---|---|\n",
        thousands(p.events as f64),
        thousands(p.instructions_per_event)
    );
    for part in &p.parts {
        out.push_str(&format!(
            "| {} | {} | {:.0} % |\n",
            part.name.replace("  ", "&nbsp;&nbsp;"),
            thousands(part.instructions_per_event),
            part.share * 100.0
        ));
    }
    out.push_str(&format!(
        "| HTTP (hyper HTTP/1 parsing and writing), tokio, connection handling | {} | {:.0} % |\n",
        thousands(p.rest_per_event),
        p.rest_per_event / p.instructions_per_event.max(1.0) * 100.0
    ));
    out
}

/// The profile section: the split and the hottest functions.
pub fn profile_section(p: &Option<Profile>) -> String {
    let Some(p) = p else {
        return "The profile step did not produce results in this run (see the bench log).\n"
            .into();
    };
    let mut out = format!(
        "`valgrind --tool=callgrind` on `hotpath` (the collector's own `payload::decode` → `payload::process` → \
         `Router::route` → `KafkaSink::deliver`, in-process, against the benchmark broker): {} events.\n\n\
         | Step | Instructions per event | Share of the path |\n|---|---|---|\n",
        thousands(p.events as f64)
    );
    for s in &p.stages {
        out.push_str(&format!(
            "| {} | {} | {:.0} % |\n",
            s.name,
            thousands(s.instructions_per_event),
            s.share * 100.0
        ));
    }
    if let Some(top) = p.stages.iter().max_by(|a, b| a.share.total_cmp(&b.share)) {
        out.push_str(&format!(
            "\nLargest step: **{}** at {:.0} % of the path's instructions.\n",
            top.name,
            top.share * 100.0
        ));
    }
    if !p.notable.is_empty() {
        out.push_str(&format!(
            "\nCosts across the steps (whole program: {} instructions per event, setup included):\n\n\
             | Cost | Instructions per event | Share of the program |\n|---|---|---|\n",
            thousands(p.total_instructions as f64 / p.events.max(1) as f64)
        ));
        for n in &p.notable {
            out.push_str(&format!(
                "| {} | {} | {:.0} % |\n",
                n.name,
                thousands(n.instructions_per_event),
                n.share * 100.0
            ));
        }
    }
    if !p.top_self.is_empty() {
        out.push_str("\nHottest functions by self cost (whole program, setup included):\n\n| Function | Instructions per event |\n|---|---|\n");
        for f in &p.top_self {
            out.push_str(&format!(
                "| `{}` | {} |\n",
                f.function.replace('|', "\\|"),
                thousands(f.instructions_per_event)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Latency;

    fn run(eps: f64, p99: f64) -> Option<LoadReport> {
        Some(LoadReport {
            events_per_s: eps,
            requests_per_s: eps / 10.0,
            latency: Latency {
                p99_ms: p99,
                ..Latency::default()
            },
            ..LoadReport::default()
        })
    }

    #[test]
    fn ratios_and_targets_come_from_the_inputs() {
        let inputs = Inputs {
            http: run(100_000.0, 1.0),
            collector: run(40_000.0, 5.0),
            collector_50: run(20_000.0, 8.0),
            kafka: Some(KafkaCeilingReport {
                events_per_s: 50_000.0,
                ..Default::default()
            }),
            collector_rss_kb: Some(150 * 1024),
            ..Inputs::default()
        };
        let t = table(&inputs);
        assert!(t.contains("| 0.40 |"), "{t}");
        assert!(t.contains("| 0.80 | ≥ 0.70 (met) |"), "{t}");
        assert!(t.contains("8.00 ms"), "{t}");
        assert!(t.contains("< 20 ms (met)"), "{t}");
        assert!(t.contains("150.0 MB"), "{t}");
        assert!(t.contains("< 100 MB (**missed**)"), "{t}");
        assert!(t.contains("n/a"), "missing inputs show as n/a");
    }

    #[test]
    fn enrichment_share_and_json_import_rows() {
        use crate::profile::{ProcessProfile, Profile, StageCost};
        let stage = |name: &str, instructions_per_event| StageCost {
            name: name.into(),
            instructions_per_event,
            share: 0.0,
        };
        let mut inputs = Inputs {
            collector: run(40_000.0, 5.0),
            collector_json: run(10_000.0, 9.0),
            profile: Some(Profile {
                stages: vec![
                    stage("decode (protobuf Batch)", 1_000.0),
                    stage("enrich + IVT (agent, geo/ASN, GIVT and SIVT rules)", 500.0),
                    stage("produce", 3_500.0),
                ],
                ..Profile::default()
            }),
            ..Inputs::default()
        };
        let t = table(&inputs);
        // Against the hot path (5 000): 10 % of the work, 0.90 of the throughput kept.
        assert!(
            t.contains(
                "| 500 instructions | hot path: 5\u{202f}000 instructions | 0.90 | ≥ 0.80 (met) |"
            ),
            "{t}"
        );
        assert!(t.contains("| 0.25 |"), "JSON import vs protobuf: {t}");
        inputs.process_profile = Some(ProcessProfile {
            instructions_per_event: 2_000.0,
            ..ProcessProfile::default()
        });
        let t = table(&inputs);
        assert!(
            t.contains(
                "whole collector process: 2\u{202f}000 instructions | 0.75 | ≥ 0.80 (**missed**) |"
            ),
            "{t}"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1234567.4), "1\u{202f}234\u{202f}567");
        assert_eq!(thousands(999.0), "999");
    }
}
