//! `make bench`'s ad-decision step: `POST /v1/decide` of sightline-decide at a fixed,
//! realistic request rate (open loop, keep-alive connections), beside the collector, with
//! a baseline measured at the same time, rate and connection count: the collector's
//! `/healthz` round trip (the cheapest answer a hyper service on this machine gives). The
//! ratio p99(decide) / p99(baseline) is what decision work adds to a round trip.
//!
//! Before measuring, profiles are built the real way: `--profiled-visitors` visitors get
//! `--events-per-visitor` persistent-mode events on the events topic, and the run waits
//! until sightline-decide folded them all (its `profile_updates_total`). Requests then mix
//! profiled visitors (behavioural/static/explore), cookieless and minor visitors
//! (contextual), over every slot and placement of the demo site.
//!
//!   decide-load --decide http://127.0.0.1:19483 --baseline http://127.0.0.1:19481 \
//!     --brokers 127.0.0.1:19492 --rate 1000 --json out/decide.json

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use rdkafka::{
    ClientConfig,
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use serde::Serialize;
use sightline_proto::{
    record::{LAYOUT_DELIMITED_V2, LAYOUT_HEADER, push_delimited},
    v1::{
        CollectedEvent, ConsentPurposes, ConsentState, Event, EventKind, PageView, PrivacyMode,
        Search, event::Kind,
    },
};

#[derive(Parser, Debug)]
#[command(about = "Latency of sightline-decide beside a baseline round trip (loopback only)")]
struct Args {
    /// Base URL of sightline-decide.
    #[arg(long)]
    decide: String,
    /// Base URL of the baseline service (its /healthz is timed).
    #[arg(long)]
    baseline: String,
    /// Kafka bootstrap servers for the profile events (none: profiles stay empty).
    #[arg(long)]
    brokers: Option<String>,
    /// Topic of the profile events.
    #[arg(long, default_value = "sightline.events")]
    topic: String,
    /// Offered requests per second, for each target.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Keep-alive connections (requests in flight at most).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds per target.
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    #[arg(long, default_value_t = 5000)]
    profiled_visitors: u32,
    #[arg(long, default_value_t = 6)]
    events_per_visitor: u32,
    /// Write the report here as JSON.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
struct Run {
    label: String,
    offered_rps: f64,
    requests_ok: u64,
    requests_failed: u64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    decide: Run,
    baseline: Run,
    p99_ratio: f64,
    profiled_visitors: u32,
    profile_events: u64,
    profile_build_s: f64,
}

const SUBJECT_PAGES: [&str; 6] = [
    "calc-1",
    "dsa",
    "organic-chem",
    "micro-econ",
    "physics-mech",
    "gre-quant",
];
const QUERIES: [&str; 6] = [
    "calculus",
    "python",
    "organic",
    "markets",
    "mechanics",
    "gre",
];
const SLOTS: [(&str, &str); 5] = [
    ("search-top-banner", "top_banner"),
    ("search-in-feed", "in_feed"),
    ("search-sticky-footer", "sticky_footer"),
    ("course-dsa-sidebar", "sidebar"),
    ("course-dsa-billboard", "below_fold"),
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for url in [&args.decide, &args.baseline] {
        anyhow::ensure!(
            url.starts_with("http://127.") || url.starts_with("http://localhost"),
            "{url}: loopback targets only"
        );
    }
    anyhow::ensure!(
        args.rate > 0.0 && args.rate.is_finite(),
        "--rate must be > 0"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let started = Instant::now();
    let mut produced = 0u64;
    if let Some(brokers) = &args.brokers {
        produced = build_profiles(&args, brokers).await?;
        wait_for_updates(&client, &args.decide, produced).await?;
    }
    let profile_build_s = started.elapsed().as_secs_f64();
    println!(
        "profiles: {} events for {} visitors folded in {profile_build_s:.1} s",
        produced, args.profiled_visitors
    );
    let visitors = args.profiled_visitors.max(1);
    let decide_url = format!("{}/v1/decide", args.decide.trim_end_matches('/'));
    // Both targets are loaded at the same time, each at the full rate on its own
    // connections: whatever else the machine does then hits both alike, so the ratio holds
    // on a busy machine where two runs one after the other would not compare.
    let healthz = format!("{}/healthz", args.baseline.trim_end_matches('/'));
    let baseline = load(&client, &args, "baseline (collector /healthz)", move |_| {
        request(http::Method::GET, &healthz, None)
    });
    let decide = load(&client, &args, "decide", move |n| {
        let (slot, placement) = SLOTS[n as usize % SLOTS.len()];
        // 80 % profiled persistent visitors, 10 % cookieless, 10 % minors.
        let privacy = match n % 10 {
            0 => r#"{"mode":"cookieless"}"#,
            1 => r#"{"mode":"restricted","minor":true}"#,
            _ => r#"{"mode":"persistent","personalization":"granted"}"#,
        };
        let page = SUBJECT_PAGES[n as usize % SUBJECT_PAGES.len()];
        let body = format!(
            r#"{{"site":"demo","slot":"{slot}","placement":"{placement}","page":{{"url":"http://localhost:5173/courses/{page}"}},"college":"IIT Madras","anonymous_id":"bench-{v}","privacy":{privacy}}}"#,
            v = n % u64::from(visitors)
        );
        request(http::Method::POST, &decide_url, Some(body))
    });
    let (decide, baseline) = tokio::join!(decide, baseline);
    let (decide, baseline) = (decide?, baseline?);
    let report = Report {
        p99_ratio: decide.p99_ms / baseline.p99_ms.max(1e-6),
        decide,
        baseline,
        profiled_visitors: args.profiled_visitors,
        profile_events: produced,
        profile_build_s,
    };
    for r in [&report.decide, &report.baseline] {
        println!(
            "{}: {:.0} req/s offered, {} ok, {} failed; latency ms p50 {:.3} p90 {:.3} p99 {:.3} max {:.3}",
            r.label,
            r.offered_rps,
            r.requests_ok,
            r.requests_failed,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.max_ms
        );
    }
    println!("p99 ratio decide / baseline: {:.2}", report.p99_ratio);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn request(method: http::Method, url: &str, body: Option<String>) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::builder().method(method).uri(url);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap_or_default()
}

/// Open loop: request `n` is due at `n / rate` whatever the answers before it did; at most
/// `connections` in flight (a request due while all are busy waits, and its wait counts).
async fn load<C>(
    client: &Client<C, Full<Bytes>>,
    args: &Args,
    label: &str,
    make: impl Fn(u64) -> http::Request<Full<Bytes>> + Send + Sync + 'static,
) -> anyhow::Result<Run>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let slots = Arc::new(tokio::sync::Semaphore::new(args.connections.max(1)));
    let histogram = Arc::new(std::sync::Mutex::new(Histogram::<u64>::new(3)?));
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = tokio::time::Instant::now();
    let warmup = Duration::from_secs(args.warmup);
    let total = warmup + Duration::from_secs(args.duration);
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let mut tasks = tokio::task::JoinSet::new();
    let mut n: u64 = 0;
    loop {
        let due = start + interval.mul_f64(n as f64);
        if due >= start + total {
            break;
        }
        tokio::time::sleep_until(due).await;
        let permit = slots.clone().acquire_owned().await?;
        let (client, make, histogram, failed) = (
            client.clone(),
            make.clone(),
            histogram.clone(),
            failed.clone(),
        );
        let measured = due >= start + warmup;
        tasks.spawn(async move {
            let outcome = tokio::time::timeout(Duration::from_secs(10), async {
                let response = client.request(make(n)).await.ok()?;
                let ok = response.status().is_success();
                response.into_body().collect().await.ok()?;
                ok.then_some(())
            })
            .await;
            // Latency from when the request was due (no coordinated omission).
            let latency = due.elapsed();
            drop(permit);
            if !measured {
                return;
            }
            match outcome {
                Ok(Some(())) => {
                    let us = u64::try_from(latency.as_micros())
                        .unwrap_or(u64::MAX)
                        .max(1);
                    if let Ok(mut h) = histogram.lock() {
                        let _ = h.record(us);
                    }
                }
                _ => {
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        n += 1;
    }
    while tasks.join_next().await.is_some() {}
    let h = histogram
        .lock()
        .map_err(|_| anyhow::anyhow!("histogram lock poisoned"))?;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(Run {
        label: label.to_owned(),
        offered_rps: args.rate,
        requests_ok: h.len(),
        requests_failed: failed.load(std::sync::atomic::Ordering::Relaxed),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        max_ms: h.max() as f64 / 1000.0,
    })
}

/// Produces the profile events (one v2 record per visitor), returns how many.
async fn build_profiles(args: &Args, brokers: &str) -> anyhow::Result<u64> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .create()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let mut sends = Vec::new();
    let mut count = 0u64;
    for v in 0..args.profiled_visitors {
        let user = format!("bench-{v}");
        let mut value = Vec::new();
        for e in 0..args.events_per_visitor {
            let i = (v as usize + e as usize) % SUBJECT_PAGES.len();
            let kind = if e % 2 == 0 {
                Kind::PageView(PageView {
                    url: format!("http://localhost:5173/courses/{}", SUBJECT_PAGES[i]),
                    ..Default::default()
                })
            } else {
                Kind::Search(Search {
                    query: QUERIES[i].to_owned(),
                    results_count: 3,
                })
            };
            let event = CollectedEvent {
                kind: if e % 2 == 0 {
                    EventKind::PageView
                } else {
                    EventKind::Search
                } as i32,
                site_key: "demo".into(),
                user_key: user.clone(),
                privacy_mode: PrivacyMode::Persistent as i32,
                consent: Some(ConsentPurposes {
                    personalization: ConsentState::Granted as i32,
                    ..Default::default()
                }),
                received_at_ms: now,
                event_time_ms: now,
                event: Some(Event {
                    kind: Some(kind),
                    ..Default::default()
                }),
                ..Default::default()
            };
            push_delimited(&event, &mut value);
            count += 1;
        }
        let producer = producer.clone();
        let topic = args.topic.clone();
        sends.push(tokio::spawn(async move {
            let headers = OwnedHeaders::new().insert(Header {
                key: LAYOUT_HEADER,
                value: Some(LAYOUT_DELIMITED_V2),
            });
            producer
                .send(
                    FutureRecord::to(&topic)
                        .key(&user)
                        .payload(&value)
                        .headers(headers),
                    Duration::from_secs(30),
                )
                .await
                .map(|_| ())
                .map_err(|(e, _)| e)
        }));
    }
    for send in sends {
        send.await??;
    }
    Ok(count)
}

/// Waits (at most 120 s) until the service's profile_updates_total reached `events`.
async fn wait_for_updates<C>(
    client: &Client<C, Full<Bytes>>,
    base: &str,
    events: u64,
) -> anyhow::Result<()>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let url = format!("{}/metrics", base.trim_end_matches('/'));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let response = client
            .request(request(http::Method::GET, &url, None))
            .await?;
        let body = response.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&body);
        let folded = text
            .lines()
            .find_map(|l| l.strip_prefix("sightline_decide_profile_updates_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if folded >= events as f64 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {folded} of {events} profile events folded after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
