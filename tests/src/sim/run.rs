//! Drives the population through the collector and the decision service.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::Full;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use prost::Message;
use rand::{Rng, rngs::StdRng};
use sightline_proto::v1::Batch;

use super::batches::{self, ORIGIN, PageSession};
use super::catalogue::Catalogue;
use super::decide::{self, Decision, SlotRequest};
use super::model::{self, ModelConfig, PrivacyClass, Student};
use super::truth::{GroundTruth, ServedImpression, quantile};
use crate::collector::{client, now_ms, request};

/// A browser's User-Agent: the collector classifies an empty or crawler agent as invalid
/// traffic, which the A/B view leaves out.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/// A batch must be answered within this; only a hung run hits it.
const POST_TIMEOUT: Duration = Duration::from_secs(30);

/// The display slots of a course page: slot id suffix, placement, size (demo-site/site/views.js
/// names them `course-<id>-<suffix>`; sizes from data.js AD_SIZES).
const SLOTS: &[(&str, &str, (u32, u32))] = &[
    ("top-banner", "top_banner", (728, 90)),
    ("sidebar", "sidebar", (300, 250)),
    ("in-feed", "in_feed", (640, 120)),
];

pub struct Endpoints {
    pub collector: String,
    pub decide: String,
    pub site_key: String,
}

/// What one student's sessions produced.
#[derive(Default)]
struct Outcome {
    impressions: Vec<ServedImpression>,
    decisions: Vec<(String, String)>,
    /// Variant of each decision that returned no creative (the slot stayed empty).
    unfilled: Vec<String>,
    decide_ms: Vec<f64>,
    batches: u64,
    events: u64,
}

/// Simulates every student, `concurrency` at a time; returns the ground truth.
pub async fn simulate(
    endpoints: &Endpoints,
    config: &ModelConfig,
    catalogue: &Catalogue,
    concurrency: usize,
) -> anyhow::Result<GroundTruth> {
    let started = Instant::now();
    let students = model::population(config, catalogue);
    let http = client();
    let mut truth = GroundTruth::new(&endpoints.site_key, config);
    for student in &students {
        *truth.students.entry(student.class).or_default() += 1;
    }
    let mut outcomes = futures::stream::iter(students.iter())
        .map(|student| {
            let http = http.clone();
            async move {
                simulate_student(&http, endpoints, config, catalogue, student)
                    .await
                    .with_context(|| format!("student {}", student.index))
                    .map(|outcome| (student.class, outcome))
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut decide_ms = Vec::new();
    while let Some(result) = outcomes.next().await {
        let (class, outcome) = result?;
        for served in &outcome.impressions {
            truth.add_impression(served);
        }
        for variant in &outcome.unfilled {
            *truth.unfilled.entry(variant.clone()).or_default() += 1;
        }
        for (id, policy) in &outcome.decisions {
            truth.add_decision(class, id, policy);
        }
        truth.traffic.batches += outcome.batches;
        truth.traffic.events += outcome.events;
        truth.traffic.decisions += outcome.decisions.len() as u64;
        decide_ms.extend(outcome.decide_ms);
    }
    decide_ms.sort_by(f64::total_cmp);
    truth.traffic.decide_p50_ms = quantile(&decide_ms, 0.5);
    truth.traffic.decide_p99_ms = quantile(&decide_ms, 0.99);
    truth.traffic.elapsed_s = started.elapsed().as_secs_f64();
    Ok(truth)
}

async fn simulate_student(
    http: &Client<HttpConnector, Full<Bytes>>,
    endpoints: &Endpoints,
    config: &ModelConfig,
    catalogue: &Catalogue,
    student: &Student,
) -> anyhow::Result<Outcome> {
    let mut rng = student.rng(config.seed);
    let mut outcome = Outcome::default();
    // The assignment is learnt from the first decision (the service assigns it), as a page
    // learns it from the first slot it fills.
    let mut variant = String::new();
    for _ in 0..config.sessions_per_student {
        let mut page = PageSession::new(&mut rng);
        let start = now_ms() - 60_000;
        let mut events = Vec::new();
        let mut last = model::pick_course(&mut rng, catalogue, &student.interest, config.noise);
        for i in 0..rng.random_range(3..=5i64) {
            last = model::pick_course(&mut rng, catalogue, &student.interest, config.noise);
            let url = format!("{ORIGIN}/courses/{}", last.id);
            events.push(page.navigate(&mut rng, start + i * 4_000, &url));
        }
        // Restricted mode refuses searches (docs/privacy.md): the SDK does not send them.
        if student.class != PrivacyClass::Minor {
            for i in 0..rng.random_range(1..=2i64) {
                let course =
                    model::pick_course(&mut rng, catalogue, &student.interest, config.noise);
                let query = course
                    .tags
                    .get(rng.random_range(0..course.tags.len().max(1)))
                    .cloned()
                    .unwrap_or_else(|| course.subject.to_lowercase());
                let kind = batches::search(&query, rng.random_range(1..12));
                events.push(page.event(&mut rng, start + 20_000 + i * 1_000, kind));
            }
        }
        let url = format!("{ORIGIN}/courses/{}", last.id);
        post(
            http,
            endpoints,
            &mut page,
            student,
            &url,
            &variant,
            events,
            &mut outcome,
        )
        .await?;

        // The course page's display slots: a decision each, a viewable impression each,
        // a click with the model's probability.
        let mut events = Vec::new();
        let shown_at = now_ms() - 10_000;
        for (n, (suffix, placement, size)) in SLOTS
            .iter()
            .cycle()
            .take(config.ads_per_session as usize)
            .enumerate()
        {
            let slot_id = format!("course-{}-{suffix}", last.id);
            let slot = slot_id.as_str();
            let slot_request = SlotRequest {
                site: &endpoints.site_key,
                slot,
                placement,
                url: &url,
                subject: &last.subject,
            };
            let asked = Instant::now();
            let decision = decide::decide(http, &endpoints.decide, student, &slot_request).await?;
            outcome.decide_ms.push(asked.elapsed().as_secs_f64() * 1e3);
            if variant.is_empty() {
                variant.clone_from(&decision.variant);
            }
            outcome
                .decisions
                .push((decision.decision_id.clone(), decision.policy.clone()));
            if decision.creatives.is_empty() {
                outcome.unfilled.push(decision.variant.clone());
                continue;
            }
            let served = serve(&mut rng, config, student, &decision);
            let ad = batches::ad(slot, placement, *size, &decision);
            let impression_id = batches::random_id(&mut rng);
            let ts = shown_at + n as i64 * 100;
            let impression = batches::viewable_impression(ad.clone(), impression_id.clone(), *size);
            events.push(page.event(&mut rng, ts, impression));
            if served.clicked {
                let click = batches::click(&mut rng, ad, impression_id, *size);
                events.push(page.event(&mut rng, ts + 3_000, click));
            }
            outcome.impressions.push(served);
        }
        post(
            http,
            endpoints,
            &mut page,
            student,
            &url,
            &variant,
            events,
            &mut outcome,
        )
        .await?;
    }
    Ok(outcome)
}

/// The model's view of one served creative: its click probability and the draw.
fn serve(
    rng: &mut StdRng,
    config: &ModelConfig,
    student: &Student,
    decision: &Decision,
) -> ServedImpression {
    let subject = decision
        .creatives
        .first()
        .map(|c| c.subject.as_str())
        .unwrap_or_default();
    let p_click = config.p_click(&student.interest, subject);
    ServedImpression {
        class: student.class,
        variant: decision.variant.clone(),
        policy: decision.policy.clone(),
        matched: subject == student.interest,
        p_click,
        clicked: rng.random::<f64>() < p_click,
    }
}

#[allow(clippy::too_many_arguments)] // one call site per batch kind; a struct would only rename them
async fn post(
    http: &Client<HttpConnector, Full<Bytes>>,
    endpoints: &Endpoints,
    page: &mut PageSession,
    student: &Student,
    url: &str,
    variant: &str,
    events: Vec<sightline_proto::v1::Event>,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    let count = events.len() as u64;
    let batch = page.batch(student, &endpoints.site_key, url, variant, now_ms(), events);
    post_batch(http, &endpoints.collector, &batch).await?;
    outcome.batches += 1;
    outcome.events += count;
    Ok(())
}

/// POSTs one batch; every event must be accepted (the simulation sends nothing the privacy
/// mode refuses), or the run's numbers would not be what was planned.
pub async fn post_batch(
    http: &Client<HttpConnector, Full<Bytes>>,
    collector: &str,
    batch: &Batch,
) -> anyhow::Result<()> {
    let reply = tokio::time::timeout(
        POST_TIMEOUT,
        request(
            http,
            http::Method::POST,
            &format!("{collector}/v1/batch"),
            &[
                ("content-type", "application/x-protobuf"),
                ("user-agent", USER_AGENT),
                ("origin", ORIGIN),
            ],
            batch.encode_to_vec(),
        ),
    )
    .await
    .context("collector did not answer")??;
    let answer = if reply.status == 200 {
        Some(reply.json())
    } else {
        None
    };
    let accepted = answer
        .as_ref()
        .and_then(|a| a["accepted"].as_u64())
        .unwrap_or(0);
    let rejected = answer
        .as_ref()
        .and_then(|a| a["rejected"].as_u64())
        .unwrap_or(0);
    if reply.status != 200 || accepted != batch.events.len() as u64 || rejected != 0 {
        bail!(
            "collector answered {} {} to a batch of {} events",
            reply.status,
            reply.body,
            batch.events.len()
        );
    }
    Ok(())
}
