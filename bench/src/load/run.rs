//! Runs the load: `concurrency` keep-alive connections share one schedule.
//!
//! Open loop (`Pacing::Open`): request *i* is due at `start + i / rate`, whatever
//! happened to earlier requests. A connection that is still busy when a request falls due
//! sends it late, and its latency is counted from the time it was due, so a stalled server
//! shows up in the percentiles instead of silently slowing the generator down
//! (coordinated omission). A connection that was idle and slept until the due time
//! counts from when it woke, so the timer's ~1 ms granularity is not blamed on the server.
//!
//! Closed loop (`Pacing::Closed`): every connection sends back to back; the achieved rate
//! is the saturation throughput for that many connections.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use hyper::header::HeaderValue;
use serde::Deserialize;
use tokio::time::Instant;

use super::{
    connection::{Connection, RequestShape},
    stats::{WorkerStats, latency_summary},
};
use crate::{
    bodies::Body,
    cpu::{Watched, Window},
    results::LoadReport,
    target::Target,
};

#[derive(Debug, Clone, Copy)]
pub enum Pacing {
    /// Fixed offered rate in requests per second.
    Open { requests_per_s: f64 },
    /// As fast as the server answers.
    Closed,
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub label: String,
    pub target: Target,
    pub shape: RequestShape,
    pub pacing: Pacing,
    /// Number of keep-alive connections (= requests in flight at most).
    pub concurrency: usize,
    /// Sent but not measured: connections open, caches and the server's pools warm up.
    pub warmup: Duration,
    /// Measured window after the warm-up.
    pub duration: Duration,
    /// Upper bound on requests, whatever the duration.
    pub max_requests: u64,
    /// After the window ends, requests still due but not yet sent are given up after this.
    pub drain: Duration,
    /// Processes whose CPU time is accounted over the measured window.
    pub watch: Vec<Watched>,
    /// Distinct client addresses sent as `X-Forwarded-For` (each in its own /24), as a
    /// load balancer in front of the collector would; 0 sends none.
    pub forwarded_for: u32,
}

/// `X-Forwarded-For` values: `10.a.b.7` for `count` distinct /24 networks (at most 65 536).
pub fn forwarded_for_pool(count: u32) -> Vec<HeaderValue> {
    (0..count.min(1 << 16))
        .map(|n| {
            HeaderValue::from_str(&format!("10.{}.{}.7", n >> 8, n & 0xff))
                .unwrap_or(HeaderValue::from_static("10.0.0.7"))
        })
        .collect()
}

/// The collector's answer body; absent fields count as zero (the HTTP ceiling answers 204).
#[derive(Deserialize, Default)]
struct Counts {
    #[serde(default)]
    accepted: u64,
    #[serde(default)]
    rejected: u64,
}

struct Schedule {
    pacing: Pacing,
    start: Instant,
    measure_from: Instant,
    end: Instant,
    give_up_at: Instant,
    max_requests: u64,
    next: AtomicU64,
}

/// What a connection should do with request number `index`.
enum Slot {
    /// Send it; latency counts from `since`. `measured` when due inside the window.
    Send {
        since: Instant,
        measured: bool,
    },
    /// Due inside the window but the drain time is over: an error, not a send.
    GiveUp {
        measured: bool,
    },
    Stop,
}

impl Schedule {
    async fn slot(&self, index: u64) -> Slot {
        if index >= self.max_requests {
            return Slot::Stop;
        }
        match self.pacing {
            Pacing::Closed => {
                let now = Instant::now();
                if now >= self.end {
                    return Slot::Stop;
                }
                Slot::Send {
                    since: now,
                    measured: now >= self.measure_from,
                }
            }
            Pacing::Open { requests_per_s } => {
                let due = self.start + Duration::from_secs_f64(index as f64 / requests_per_s);
                if due >= self.end {
                    return Slot::Stop;
                }
                let measured = due >= self.measure_from;
                let now = Instant::now();
                if now >= self.give_up_at {
                    return Slot::GiveUp { measured };
                }
                if due > now {
                    tokio::time::sleep_until(due).await;
                    Slot::Send {
                        since: Instant::now(),
                        measured,
                    }
                } else {
                    Slot::Send {
                        since: due,
                        measured,
                    }
                }
            }
        }
    }
}

/// Runs the load and reports what the measured window saw.
pub async fn run(config: LoadConfig, bodies: Arc<Vec<Body>>) -> LoadReport {
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let schedule = Arc::new(Schedule {
        pacing: config.pacing,
        start,
        measure_from,
        end,
        give_up_at: end + config.drain,
        max_requests: config.max_requests,
        next: AtomicU64::new(0),
    });
    let addresses = Arc::new(forwarded_for_pool(config.forwarded_for));
    let workers: Vec<_> = (0..config.concurrency.max(1))
        .map(|_| {
            let connection = Connection::new(config.target.clone(), config.shape.clone());
            tokio::spawn(worker(
                schedule.clone(),
                connection,
                bodies.clone(),
                addresses.clone(),
            ))
        })
        .collect();
    // CPU accounting starts with the measured window, on its own task.
    let cpu_window = tokio::spawn({
        let watch = config.watch.clone();
        async move {
            tokio::time::sleep_until(measure_from).await;
            Window::start(&watch)
        }
    });
    let mut total = WorkerStats::new();
    let mut last_done = measure_from;
    for handle in workers {
        // A worker only ends by returning; a join error would mean it panicked, which
        // the code above does not do: count such a worker as lost instead of stopping.
        match handle.await {
            Ok((stats, done)) => {
                total.merge(stats);
                last_done = last_done.max(done);
            }
            Err(_) => total.error("worker_lost"),
        }
    }
    let measured_s = (last_done - measure_from).as_secs_f64().max(1e-3);
    let cpu = match cpu_window.await {
        Ok(window) => window.finish(total.events_ok, measured_s),
        Err(_) => Default::default(),
    };
    let (mode, offered_rps) = match config.pacing {
        Pacing::Open { requests_per_s } => ("open", Some(requests_per_s)),
        Pacing::Closed => ("closed", None),
    };
    let sent = (total.requests_ok + total.requests_failed).max(1);
    LoadReport {
        label: config.label,
        mode: mode.into(),
        offered_rps,
        concurrency: config.concurrency,
        gzip: config.shape.gzip,
        measured_s,
        requests_ok: total.requests_ok,
        requests_failed: total.requests_failed,
        events_ok: total.events_ok,
        events_accepted: total.events_accepted,
        events_rejected: total.events_rejected,
        requests_per_s: total.requests_ok as f64 / measured_s,
        events_per_s: total.events_ok as f64 / measured_s,
        latency: latency_summary(&total.latency_us),
        errors: total.errors,
        mean_body_bytes: total.body_bytes as f64 / sent as f64,
        cpu,
    }
}

async fn worker(
    schedule: Arc<Schedule>,
    mut connection: Connection,
    bodies: Arc<Vec<Body>>,
    addresses: Arc<Vec<HeaderValue>>,
) -> (WorkerStats, Instant) {
    let mut stats = WorkerStats::new();
    let mut last_done = schedule.start;
    loop {
        let index = schedule.next.fetch_add(1, Ordering::Relaxed);
        let (since, measured) = match schedule.slot(index).await {
            Slot::Stop => break,
            Slot::GiveUp { measured } => {
                if measured {
                    stats.error("not_sent_in_time");
                }
                continue;
            }
            Slot::Send { since, measured } => (since, measured),
        };
        let Some(body) = bodies.get((index % bodies.len().max(1) as u64) as usize) else {
            break;
        };
        // A different address per request (not per body) so one visitor's batches come
        // from several proxies' clients, as behind a real load balancer.
        let address = addresses.get((index % addresses.len().max(1) as u64) as usize);
        let result = connection.post(body.bytes.clone(), address).await;
        let done = Instant::now();
        last_done = last_done.max(done);
        if !measured {
            continue;
        }
        stats.body_bytes += body.bytes.len() as u64;
        // Latency of answered requests only: a refused connection answers in microseconds
        // and would flatter the percentiles.
        if result.is_ok() {
            stats.record_latency(done - since);
        }
        match result {
            Ok(answer) if answer.status.is_success() => {
                stats.requests_ok += 1;
                stats.events_ok += u64::from(body.events);
                if !answer.body.is_empty() {
                    let counts: Counts = serde_json::from_slice(&answer.body).unwrap_or_default();
                    stats.events_accepted += counts.accepted;
                    stats.events_rejected += counts.rejected;
                }
            }
            Ok(answer) => stats.error(answer.status.as_str().to_string()),
            Err(e) => stats.error(e.label()),
        }
    }
    (stats, last_done)
}
