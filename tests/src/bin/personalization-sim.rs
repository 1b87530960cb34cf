//! Issue 22's simulated students (tests/src/sim): drives the collector and the decision
//! service over HTTP, measures profile freshness, writes the ground truth as JSON and prints
//! a summary. scripts/test-personalization.sh runs it; the ClickHouse analysis
//! (analytics/sightline_analytics/personalization.py) then holds Kafka's data against it.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use sightline_tests::sim::{catalogue::Catalogue, freshness, model::ModelConfig, run};

#[derive(Parser)]
#[command(about = "Simulated students through the collector and the ad-decision service")]
struct Args {
    /// Collector base URL, e.g. http://127.0.0.1:26610
    #[arg(long)]
    collector: String,
    /// Decision service base URL, e.g. http://127.0.0.1:26611
    #[arg(long)]
    decide: String,
    #[arg(long, default_value = "demo")]
    site: String,
    /// The demo catalogue the students browse (its COURSES array).
    #[arg(long, default_value = "demo-site/site/data.js")]
    catalogue: PathBuf,
    /// Where the ground truth JSON goes.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 22)]
    seed: u64,
    #[arg(long, default_value_t = 900)]
    students: u32,
    #[arg(long, default_value_t = 4)]
    sessions: u32,
    #[arg(long, default_value_t = 3)]
    ads_per_session: u32,
    /// Students simulated at once (each one's sessions are sequential).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Freshness probe visitors (measured one at a time after the traffic).
    #[arg(long, default_value_t = 40)]
    probes: u32,
    #[arg(long, default_value_t = 0.04)]
    p_match: f64,
    #[arg(long, default_value_t = 0.008)]
    p_other: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let catalogue = Catalogue::load(&args.catalogue)?;
    let config = ModelConfig {
        seed: args.seed,
        students: args.students,
        sessions_per_student: args.sessions,
        ads_per_session: args.ads_per_session,
        p_match: args.p_match,
        p_other: args.p_other,
        ..ModelConfig::default()
    };
    let endpoints = run::Endpoints {
        collector: args.collector.trim_end_matches('/').to_string(),
        decide: args.decide.trim_end_matches('/').to_string(),
        site_key: args.site.clone(),
    };
    let mut truth = run::simulate(&endpoints, &config, &catalogue, args.concurrency).await?;
    truth.freshness = freshness::measure(&endpoints, &config, &catalogue, args.probes).await?;
    std::fs::write(&args.out, serde_json::to_vec_pretty(&truth)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let t = &truth.traffic;
    println!(
        "simulated {} students ({:?}): {} batches, {} events, {} decisions in {:.1} s (decide p50 {:.2} ms, p99 {:.2} ms)",
        config.students,
        truth.students,
        t.batches,
        t.events,
        t.decisions,
        t.elapsed_s,
        t.decide_p50_ms,
        t.decide_p99_ms
    );
    for (variant, arm) in &truth.arms {
        println!(
            "  arm {:>14}: {} impressions, {:.1} % matched the interest, expected CTR {:.3} %, simulated clicks {}, policies {:?}",
            if variant.is_empty() {
                "(none)"
            } else {
                variant
            },
            arm.impressions,
            100.0 * arm.matched_impressions as f64 / arm.impressions.max(1) as f64,
            100.0 * arm.expected_ctr(),
            arm.simulated_clicks,
            arm.policies
        );
    }
    println!("  policies by privacy class: {:?}", truth.policies_by_class);
    println!(
        "  decisions without a creative (slot left empty), by variant: {:?}",
        truth.unfilled
    );
    let f = &truth.freshness;
    println!(
        "  freshness (search sent → profile_events up): {} probes, {} reflected, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        f.probes, f.reflected, f.p50_ms, f.p99_ms, f.max_ms
    );
    Ok(())
}
