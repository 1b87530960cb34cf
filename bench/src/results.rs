//! The JSON each benchmark step writes, read back by `bench-report` to build the table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::cpu::CpuUse;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// One load generator run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadReport {
    pub label: String,
    /// "open" (fixed offered rate) or "closed" (each connection sends back to back).
    pub mode: String,
    /// Requests per second asked for; `None` in closed loop.
    pub offered_rps: Option<f64>,
    pub concurrency: usize,
    pub gzip: bool,
    /// Length of the measured window (after warm-up), seconds.
    pub measured_s: f64,
    /// Answers with a 2xx status.
    pub requests_ok: u64,
    /// Non-2xx answers plus requests with no answer.
    pub requests_failed: u64,
    /// Events in requests answered 2xx.
    pub events_ok: u64,
    /// Sum of `accepted` / `rejected` in JSON answers (the collector's own count).
    pub events_accepted: u64,
    pub events_rejected: u64,
    pub requests_per_s: f64,
    pub events_per_s: f64,
    pub latency: Latency,
    /// Failures by HTTP status ("429", "503", …) or by kind ("connect", "timeout", "io").
    pub errors: BTreeMap<String, u64>,
    pub mean_body_bytes: f64,
    /// CPU per watched process over the measured window (the load generator as
    /// `loadgen`; others by `--watch NAME=PID`).
    #[serde(default)]
    pub cpu: BTreeMap<String, CpuUse>,
}

/// One run of the raw Kafka producer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KafkaCeilingReport {
    pub measured_s: f64,
    /// Events in acknowledged records (a v2 record holds a request's events).
    pub events_acked: u64,
    pub events_failed: u64,
    pub events_per_s: f64,
    /// Records acknowledged in the window.
    #[serde(default)]
    pub records_acked: u64,
    /// `routing.records` of the run.
    #[serde(default)]
    pub layout: String,
    pub mean_record_bytes: f64,
    pub errors: BTreeMap<String, u64>,
    /// The producer settings used (the collector's), for the report.
    pub producer_settings: BTreeMap<String, String>,
    /// CPU per process over the window (`kafka-ceiling` itself; the broker if watched).
    #[serde(default)]
    pub cpu: BTreeMap<String, CpuUse>,
}

/// What the SDK's requests carried (from the recorded bodies, by `sdk-wire`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SdkWireReport {
    pub requests: u64,
    /// Bodies that did not decode as a `Batch` (should be 0).
    pub undecodable: u64,
    pub body_bytes: u64,
    pub events: u64,
    /// Distinct event ids (retries and duplicates counted once): delivered events.
    pub unique_events: u64,
    /// Page sessions seen (`Identity.page_session_id`).
    pub page_sessions: u64,
    /// Sum over page sessions of the highest `Event.seq`: events the SDK captured, as
    /// `seq` is gap-free from 1 (events lost after the last delivered one cannot show).
    pub captured_events: u64,
    pub kinds: BTreeMap<String, u64>,
    pub protobuf_bytes_per_event: f64,
    pub protobuf_gzip_bytes_per_event: f64,
    /// The same events as a JSON tracker's bodies (one request per recorded batch).
    pub json_bytes_per_event: f64,
    pub json_gzip_bytes_per_event: f64,
}

/// Main-thread cost of one variant of the scripted session (medians over the runs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PageCost {
    pub task_ms: f64,
    pub script_ms: f64,
    pub long_tasks: f64,
    pub long_task_ms: f64,
}

/// One SDK file the page downloaded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SdkFile {
    pub name: String,
    pub bytes: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// The SDK bench in headless Chromium (written by bench/sdk/bench.mjs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SdkPageReport {
    pub runs: u32,
    pub files: Vec<SdkFile>,
    pub with_sdk: PageCost,
    pub without_sdk: PageCost,
    /// Requests to the collector endpoint (fetch and beacon) over all runs with the SDK.
    pub requests_per_session: f64,
    pub user_agent: String,
    pub session_ms: f64,
    pub notes: Vec<String>,
}
