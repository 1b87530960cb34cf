//! A small bounded loopback load generator for the collector: `connections` keep-alive
//! HTTP/1.1 clients each POST batches of `events` click events for `seconds`, then
//! events/s and latency percentiles are printed.
//!
//!     cargo run --release -p sightline-collector --example loadgen -- \
//!         http://127.0.0.1:8080 [connections=16] [events=20] [seconds=10]

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use prost::Message;
use sightline_proto::v1::{Batch, Click, Event, Identity, event::Kind};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn batch(user: u64, events: usize) -> Vec<u8> {
    let sent = now_ms();
    Batch {
        site_key: "demo".into(),
        sent_at_ms: sent,
        identity: Some(Identity {
            anonymous_id: format!("load-{user}"),
            ..Default::default()
        }),
        events: (0..events)
            .map(|_| {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                let mut event_id = [0u8; 16];
                event_id[..8].copy_from_slice(&id.to_be_bytes());
                Event {
                    event_id: event_id.to_vec(),
                    client_ts_ms: sent,
                    kind: Some(Kind::Click(Click::default())),
                    ..Default::default()
                }
            })
            .collect(),
        ..Default::default()
    }
    .encode_to_vec()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let connections: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    let events: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20);
    let seconds: u64 = args
        .get(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10)
        .min(120);
    let url = format!("{base}/v1/batch");
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = batch(c * 1_000_000 + n % 100, events);
                let request = http::Request::post(&url)
                    .header("content-type", "application/x-protobuf")
                    .body(Full::new(Bytes::from(body)));
                let Ok(request) = request else { break };
                let t0 = Instant::now();
                match client.request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        let _ = response.into_body().collect().await;
                        if status == 200 {
                            ok += 1;
                            latencies.push(t0.elapsed());
                        } else {
                            failed += 1;
                        }
                    }
                    Err(_) => failed += 1,
                }
            }
            (latencies, ok, failed)
        }));
    }
    let mut latencies = Vec::new();
    let (mut ok, mut failed) = (0u64, 0u64);
    for task in tasks {
        let (l, o, f) = task.await?;
        latencies.extend(l);
        ok += o;
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{connections} connections, {events} events/batch, {elapsed:.1} s: {ok} batches ok, {failed} failed; \
         {:.0} events/s, {:.0} requests/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ok as f64 * events as f64 / elapsed,
        ok as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
    Ok(())
}
