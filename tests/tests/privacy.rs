//! Privacy enforcement end to end (issue 18): real in-process collectors, records read
//! back from the real broker. Two collectors sharing `privacy.visitor_id_secret` give a
//! cookieless visitor the same id (the balancer's choice does not matter); a minor's
//! batch that sends a user id anyway is stripped, keyed by its page session and loses its
//! behavioural events to the dead letter; PII in a search is scrubbed before Kafka.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use prost::Message as _;
use sightline_proto::v1::{
    CollectedEvent, ConsentPurposes, EventKind, Hover, PageView, PrivacyMode, RejectedEvent,
    Search, event::Kind,
};
use sightline_tests::{
    collector::{TestCollector, batch, metric, metrics, post_batch, test_config},
    kafka::{end_offsets, events_topic, read_events_from, read_from, topic},
};

const SECRET: &str = "integration-test deployment secret";

fn config() -> sightline_collector::config::Config {
    let mut config = test_config();
    config.privacy.visitor_id_secret = SECRET.into();
    config
}

/// Events of the session `session` from `start` on (waits for `count`).
fn events_of(
    start: &[(i32, i64)],
    session: &str,
    count: usize,
) -> anyhow::Result<Vec<(Option<Vec<u8>>, CollectedEvent)>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mine: Vec<(Option<Vec<u8>>, CollectedEvent)> =
            read_events_from(&events_topic(), start, usize::MAX, Duration::from_secs(2))?
                .into_iter()
                .filter(|e| {
                    e.event
                        .identity
                        .as_ref()
                        .is_some_and(|i| i.session_id == session)
                })
                .map(|e| (e.key().map(<[u8]>::to_vec), e.event))
                .collect();
        if mine.len() >= count || Instant::now() > deadline {
            return Ok(mine);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookieless_ids_agree_across_collectors_and_minors_are_restricted() -> anyhow::Result<()> {
    let start = end_offsets(&events_topic())?;
    let rejected_topic = topic(sightline_proto::TOPIC_SUFFIXES.rejected);
    let rejected_start = end_offsets(&rejected_topic)?;
    let a = TestCollector::start(config()).await?;
    let b = TestCollector::start(config()).await?;
    let run = rand::random::<u32>();
    let ua = [("user-agent", "Mozilla/5.0 privacy-test")];

    // A cookieless page (GPC) that still sends an anonymous id, to each collector.
    let session = format!("privacy-{run}-cookieless");
    for collector in [&a, &b] {
        let mut body = batch(
            "leaked-anon",
            "",
            vec![
                Kind::PageView(PageView::default()),
                Kind::Search(Search {
                    query: "fees for asha@example.in 9876543210".into(),
                    results_count: 1,
                }),
            ],
        );
        body.privacy_mode = PrivacyMode::Cookieless as i32;
        body.identity.as_mut().context("identity")?.session_id = session.clone();
        let reply = post_batch(collector.addr, "", &ua, body.encode_to_vec()).await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let cookieless = events_of(&start, &session, 4)?;
    assert_eq!(cookieless.len(), 4);
    let visitor = cookieless[0].1.visitor_id.clone();
    assert_eq!(visitor.len(), 32);
    for (key, event) in &cookieless {
        assert_eq!(
            key.as_deref(),
            Some(visitor.as_bytes()),
            "keyed by the visitor id"
        );
        assert_eq!(
            event.visitor_id, visitor,
            "both collectors derive the same id"
        );
        assert_eq!(event.privacy_mode(), PrivacyMode::Cookieless);
        assert!(event.identity_stripped);
        assert_eq!(
            event.identity.as_ref().context("identity")?.anonymous_id,
            ""
        );
        assert_eq!(
            event.client_ip, "127.0.0.0",
            "only the truncated address is stored"
        );
    }
    let search = cookieless
        .iter()
        .find(|(_, e)| e.kind == EventKind::Search as i32)
        .context("search")?;
    let Some(Kind::Search(s)) = search.1.event.as_ref().and_then(|e| e.kind.as_ref()) else {
        anyhow::bail!("not a search");
    };
    assert_eq!(s.query, "fees for [email] [phone]");
    assert_eq!(search.1.pii_redactions, 2);

    // A minor's page that calls identify() anyway.
    let session = format!("privacy-{run}-minor");
    let mut body = batch(
        "minor-anon",
        "student-17",
        vec![
            Kind::PageView(PageView::default()),
            Kind::Hover(Hover::default()),
        ],
    );
    body.privacy_mode = PrivacyMode::Persistent as i32;
    body.consent = Some(ConsentPurposes {
        minor: true,
        ..Default::default()
    });
    body.experiments.insert("layout".into(), "B".into());
    let identity = body.identity.as_mut().context("identity")?;
    identity.session_id = session.clone();
    let page_session = identity.page_session_id.clone();
    let reply = post_batch(a.addr, "", &ua, body.encode_to_vec()).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["accepted"], 1, "{}", reply.body);
    assert_eq!(reply.json()["rejected"], 1, "{}", reply.body);
    let minor = events_of(&start, &session, 1)?;
    assert_eq!(minor.len(), 1, "the page view only");
    let (key, event) = &minor[0];
    assert_eq!(key.as_deref(), Some(page_session.as_bytes()));
    assert_eq!(event.privacy_mode(), PrivacyMode::Restricted);
    assert!(event.identity_stripped);
    assert_eq!(event.visitor_id, "");
    assert!(event.experiments.is_empty());
    let identity = event.identity.as_ref().context("identity")?;
    assert_eq!(
        (identity.user_id.as_str(), identity.anonymous_id.as_str()),
        ("", "")
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let dead = loop {
        let found = read_from(
            &rejected_topic,
            &rejected_start,
            usize::MAX,
            Duration::from_secs(2),
        )?
        .into_iter()
        .filter_map(|m| RejectedEvent::decode(rdkafka::Message::payload(&m)?).ok())
        .find(|r| r.identity.as_ref().is_some_and(|i| i.session_id == session));
        match found {
            Some(dead) => break dead,
            None if Instant::now() > deadline => anyhow::bail!("no dead letter for the hover"),
            None => {}
        }
    };
    assert_eq!(dead.reason, "privacy_restricted");
    assert_eq!(
        dead.event.and_then(|e| e.kind),
        Some(Kind::Hover(Hover::default()))
    );

    let text = metrics(a.addr).await?;
    assert_eq!(
        metric(
            &text,
            "sightline_collector_identity_stripped_total{mode=\"restricted\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "sightline_collector_privacy_events_total{mode=\"restricted\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            "sightline_collector_pii_redactions_total{kind=\"phone\"}"
        ),
        1.0
    );
    a.stop().await?;
    b.stop().await?;
    Ok(())
}
