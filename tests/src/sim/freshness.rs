//! Freshness: how long from an interaction sent to the collector until the decision service's
//! profile of that visitor reflects it (`profile_events` in its decisions goes up).
//!
//! Measured with probe visitors of their own (persistent, consenting; not part of the A/B
//! population), one at a time after the simulated traffic, so the figure is the pipeline's
//! latency (collector → Kafka → the service's consumer → profile), not queueing behind the
//! load. Each probe asks for a decision (baseline count), POSTs one search, then asks again
//! every `POLL_INTERVAL` until the count rises or `PROBE_DEADLINE` passes. The latency is
//! measured from just before the POST, so it includes the collector's answer (Kafka ack).

use std::time::{Duration, Instant};

use anyhow::Context;

use super::batches::{self, ORIGIN, PageSession};
use super::catalogue::Catalogue;
use super::decide::{self, SlotRequest};
use super::model::{self, ModelConfig, PrivacyClass, Student};
use super::run::{Endpoints, post_batch};
use super::truth::{Freshness, quantile};
use crate::collector::{client, now_ms};

pub const POLL_INTERVAL: Duration = Duration::from_millis(5);
pub const PROBE_DEADLINE: Duration = Duration::from_secs(15);
/// Probe visitors tried per probe wanted (each is in the personalized arm with the service's
/// `personalized_share`, 0.5 by default).
pub const MAX_ATTEMPTS_PER_PROBE: u32 = 8;

pub async fn measure(
    endpoints: &Endpoints,
    config: &ModelConfig,
    catalogue: &Catalogue,
    probes: u32,
) -> anyhow::Result<Freshness> {
    let http = client();
    let mut latencies = Vec::new();
    let mut timed_out = 0;
    let mut decide_calls = 0;
    let mut events_sent = 0;
    // Only probes in the personalized arm count: the control arm is served static ads without
    // reading the profile (its decisions say profile_events 0). Every probe visitor is new, so
    // about half are; the attempts are bounded.
    let mut measured = 0;
    let mut k = 0;
    while measured < probes && k < probes.saturating_mul(MAX_ATTEMPTS_PER_PROBE) {
        k += 1;
        let index = config.students + k;
        let interest = catalogue.subjects[(k as usize) % catalogue.subjects.len()].clone();
        let student = Student {
            index,
            class: PrivacyClass::Consenting,
            interest: interest.clone(),
            college: "IIT Madras".into(),
            cohort: "PROBE-2027".into(),
            anonymous_id: format!("sim-{:x}-probe-a{k}", config.seed),
            user_id: format!("sim-{:x}-probe-u{k}", config.seed),
        };
        let mut rng = student.rng(config.seed);
        let course = model::pick_course(&mut rng, catalogue, &interest, 0.0);
        let url = format!("{ORIGIN}/courses/{}", course.id);
        let slot = SlotRequest {
            site: &endpoints.site_key,
            slot: "freshness-probe",
            placement: "sidebar",
            url: &url,
            subject: &course.subject,
        };
        let baseline = decide::decide(&http, &endpoints.decide, &student, &slot)
            .await
            .context("freshness baseline")?;
        decide_calls += 1;
        if baseline.variant != "personalized" {
            continue;
        }
        measured += 1;
        let before = baseline.profile_events;
        let mut page = PageSession::new(&mut rng);
        let query = course.tags.first().cloned().unwrap_or_default();
        let search = page.event(&mut rng, now_ms(), batches::search(&query, 3));
        let batch = page.batch(
            &student,
            &endpoints.site_key,
            &url,
            "",
            now_ms(),
            vec![search],
        );
        let sent = Instant::now();
        post_batch(&http, &endpoints.collector, &batch).await?;
        events_sent += 1;
        let mut reflected = false;
        while sent.elapsed() < PROBE_DEADLINE {
            let now = decide::decide(&http, &endpoints.decide, &student, &slot).await?;
            decide_calls += 1;
            if now.profile_events > before {
                reflected = true;
                break;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        if reflected {
            latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        } else {
            timed_out += 1;
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Freshness {
        probes: u64::from(measured),
        reflected: latencies.len() as u64,
        timed_out,
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
        decide_calls,
        events_sent,
    })
}
