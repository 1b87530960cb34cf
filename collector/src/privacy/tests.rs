//! Mode enforcement through the request path (`ingest::handle_batch` into a memory sink),
//! and the visitor id's day handling through `Privacy::enforce` with an injected time.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::Full;
use prost::Message;
use sightline_proto::v1::{
    Batch, CollectedEvent, ConsentPurposes, Custom, Event, EventKind, Hover, Identity, PageContext,
    PageView, PrivacyMode, Property, RejectedEvent, Search, event::Kind, property::Value,
};

use super::*;
use crate::{
    config::Config,
    ingest::{handle_batch, now_ms},
    sinks::{Record, RecordHeaders, memory::MemorySink},
    state::AppState,
};

const SECRET: &str = "a deployment secret of 32 bytes!";

fn state(sink: MemorySink) -> AppState {
    let config = Config::from_toml_with_env(
        &format!(
            "[[sites]]\nkey = \"demo\"\n[[sites]]\nkey = \"other\"\n[privacy]\nvisitor_id_secret = \"{SECRET}\"\n"
        ),
        [],
    )
    .unwrap();
    AppState::new(config, Arc::new(sink)).unwrap()
}

fn event(id: u8, kind: Kind) -> Event {
    Event {
        event_id: vec![id; 16],
        client_ts_ms: now_ms(),
        seq: u64::from(id),
        kind: Some(kind),
        ..Default::default()
    }
}

/// A page that sends everything, whatever its mode says.
fn batch(mode: PrivacyMode, minor: bool) -> Batch {
    Batch {
        site_key: "demo".into(),
        sent_at_ms: now_ms(),
        privacy_mode: mode as i32,
        consent: Some(ConsentPurposes {
            measurement: 1,
            minor,
            ..Default::default()
        }),
        context: Some(PageContext {
            url: "https://campus.example/profile/asha.k@example.com".into(),
            ..Default::default()
        }),
        identity: Some(Identity {
            anonymous_id: "anon-1".into(),
            user_id: "student-42".into(),
            session_id: "sess-1".into(),
            page_session_id: "ps-1".into(),
            traits: [("college".to_owned(), "IIT Bombay".to_owned())].into(),
        }),
        experiments: [("ad_layout".to_owned(), "B".to_owned())].into(),
        events: vec![
            event(1, Kind::PageView(PageView::default())),
            event(
                2,
                Kind::Search(Search {
                    query: "refund to 98765 43210 or PAN ABCPE1234F".into(),
                    results_count: 3,
                }),
            ),
            event(3, Kind::Hover(Hover::default())),
            event(
                4,
                Kind::Custom(Custom {
                    name: "enrol".into(),
                    properties: vec![Property {
                        key: "card".into(),
                        value: Some(Value::StringValue("4111 1111 1111 1111".into())),
                    }],
                }),
            ),
        ],
        ..Default::default()
    }
}

async fn post(state: &AppState, ip: &str, b: &Batch) -> crate::ingest::Summary {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::USER_AGENT,
        "Mozilla/5.0 test".parse().unwrap(),
    );
    handle_batch(
        state,
        ip.parse().unwrap(),
        None,
        &headers,
        &mut Full::new(Bytes::from(b.encode_to_vec())),
    )
    .await
    .result
    .unwrap()
}

fn collected(record: &Record) -> Vec<CollectedEvent> {
    let layout = record.headers.layout.as_deref().map(str::as_bytes);
    sightline_proto::record::read_record([(RecordHeaders::LAYOUT, layout)], &record.payload)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn metric(state: &AppState, line: &str) -> Option<u64> {
    state
        .metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
}

#[tokio::test]
async fn persistent_keeps_identity_and_still_scrubs() {
    let sink = MemorySink::new();
    let state = state(sink.clone());
    let summary = post(
        &state,
        "203.0.113.9",
        &batch(PrivacyMode::Unspecified, false),
    )
    .await;
    assert_eq!((summary.accepted, summary.rejected), (4, 0));
    let records = sink.records();
    assert_eq!(records[0].key.as_deref(), Some("student-42"));
    let events = collected(&records[0]);
    let first = &events[0];
    assert_eq!(first.privacy_mode, PrivacyMode::Persistent as i32);
    assert!(!first.identity_stripped);
    assert_eq!(first.visitor_id, "");
    assert_eq!(first.identity.as_ref().unwrap().user_id, "student-42");
    assert_eq!(
        first.context.as_ref().unwrap().url,
        "https://campus.example/profile/[email]"
    );
    // The context's e-mail counts in every event; the search adds a phone and a PAN.
    let redactions: Vec<u32> = events.iter().map(|e| e.pii_redactions).collect();
    assert_eq!(redactions, [1, 3, 1, 2]);
    let Some(Kind::Search(search)) = events[1].event.as_ref().unwrap().kind.as_ref() else {
        panic!("not a search");
    };
    assert_eq!(search.query, "refund to [phone] or PAN [pan]");
    assert_eq!(
        metric(
            &state,
            "sightline_collector_privacy_events_total{mode=\"persistent\"}"
        ),
        Some(4)
    );
    assert_eq!(
        metric(
            &state,
            "sightline_collector_pii_redactions_total{kind=\"card\"}"
        ),
        Some(1)
    );
    assert_eq!(
        metric(
            &state,
            "sightline_collector_pii_redactions_total{kind=\"email\"}"
        ),
        Some(1)
    );
}

#[tokio::test]
async fn cookieless_strips_ids_and_keys_by_a_visitor_id_per_site() {
    let sink = MemorySink::new();
    let state = state(sink.clone());
    post(
        &state,
        "203.0.113.9",
        &batch(PrivacyMode::Cookieless, false),
    )
    .await;
    post(
        &state,
        "203.0.113.9",
        &batch(PrivacyMode::Cookieless, false),
    )
    .await;
    let mut other_site = batch(PrivacyMode::Cookieless, false);
    other_site.site_key = "other".into();
    post(&state, "203.0.113.9", &other_site).await;
    post(
        &state,
        "203.0.113.10",
        &batch(PrivacyMode::Cookieless, false),
    )
    .await;
    let records = sink.records();
    let events: Vec<CollectedEvent> = records.iter().map(|r| collected(r).remove(0)).collect();
    let id = events[0].visitor_id.clone();
    assert_eq!(id.len(), 32);
    assert_eq!(records[0].key.as_deref(), Some(id.as_str()));
    assert_eq!(events[0].user_key, id);
    assert_eq!(events[1].visitor_id, id, "same visitor, same day: same id");
    assert_ne!(events[2].visitor_id, id, "another site");
    assert_ne!(events[3].visitor_id, id, "another address");
    let first = &events[0];
    assert_eq!(first.privacy_mode, PrivacyMode::Cookieless as i32);
    assert!(first.identity_stripped);
    let identity = first.identity.as_ref().unwrap();
    assert_eq!(
        (identity.anonymous_id.as_str(), identity.user_id.as_str()),
        ("", "")
    );
    assert!(identity.traits.is_empty());
    assert_eq!(identity.session_id, "sess-1");
    // The address in the record is the truncated one, never the full one.
    assert_eq!(first.client_ip, "203.0.113.0");
    assert_eq!(
        metric(
            &state,
            "sightline_collector_identity_stripped_total{mode=\"cookieless\"}"
        ),
        Some(4)
    );
}

#[tokio::test]
async fn a_minor_is_restricted_whatever_the_page_claims() {
    let sink = MemorySink::new();
    let state = state(sink.clone());
    // The page says persistent and sends a user id, but the consent marks a minor.
    let summary = post(&state, "203.0.113.9", &batch(PrivacyMode::Persistent, true)).await;
    assert_eq!((summary.accepted, summary.rejected), (1, 3));
    let records = sink.records();
    let accepted: Vec<&Record> = records
        .iter()
        .filter(|r| !r.topic.ends_with("rejected"))
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].key.as_deref(), Some("ps-1"));
    let events = collected(accepted[0]);
    assert_eq!(events.len(), 1);
    let page_view = &events[0];
    assert_eq!(page_view.kind, EventKind::PageView as i32);
    assert_eq!(page_view.privacy_mode, PrivacyMode::Restricted as i32);
    assert!(page_view.identity_stripped);
    assert_eq!(page_view.visitor_id, "", "no visitor id for a minor");
    assert!(page_view.experiments.is_empty());
    let identity = page_view.identity.as_ref().unwrap();
    assert_eq!(
        (identity.anonymous_id.as_str(), identity.user_id.as_str()),
        ("", "")
    );
    assert!(page_view.consent.as_ref().unwrap().minor);
    // Search, hover and custom: dead letters with the reason and without their content.
    let rejected: Vec<RejectedEvent> = records
        .iter()
        .filter(|r| r.topic.ends_with("rejected"))
        .map(|r| RejectedEvent::decode(r.payload.as_slice()).unwrap())
        .collect();
    assert_eq!(rejected.len(), 3);
    for r in &rejected {
        assert_eq!(r.reason, reason::PRIVACY_RESTRICTED);
        assert_eq!(r.identity.as_ref().unwrap().user_id, "");
    }
    assert_eq!(
        rejected[0].event.as_ref().unwrap().kind,
        Some(Kind::Search(Search::default()))
    );
    assert!(
        records
            .iter()
            .all(|r| r.key.as_deref() != Some("student-42"))
    );
    assert_eq!(
        metric(
            &state,
            "sightline_collector_events_rejected_total{reason=\"privacy_restricted\"}"
        ),
        Some(3)
    );
    assert_eq!(
        metric(
            &state,
            "sightline_collector_identity_stripped_total{mode=\"restricted\"}"
        ),
        Some(1)
    );
    assert_eq!(
        metric(
            &state,
            "sightline_collector_privacy_events_total{mode=\"restricted\"}"
        ),
        Some(4)
    );
}

#[test]
fn the_visitor_id_changes_with_the_day_and_two_collectors_agree() {
    let config = |secret: &str| {
        Config::from_toml_with_env(
            &format!("[privacy]\nvisitor_id_secret = \"{secret}\"\n"),
            [],
        )
        .unwrap()
        .privacy
    };
    let a = Privacy::new(&config(SECRET));
    let b = Privacy::new(&config(SECRET));
    let ip = "2001:db8::1".parse().unwrap();
    let day = 20_425 * 86_400_000; // 2025-12-03T00:00Z
    let id = |p: &Privacy, at: i64| {
        let mut batch = batch(PrivacyMode::Cookieless, false);
        p.enforce(&mut batch, "demo", ip, "UA", at).visitor_id
    };
    let morning = id(&a, day + 3_600_000);
    assert_eq!(id(&b, day + 80_000_000), morning, "same secret, same day");
    assert_ne!(id(&a, day + 86_400_000), morning, "the next day");
    assert_ne!(id(&a, day - 1), morning, "the day before");
    let c = Privacy::new(&config("another secret, also long enough"));
    assert_ne!(id(&c, day + 3_600_000), morning);
}

#[test]
fn short_secrets_are_refused() {
    let err =
        Config::from_toml_with_env("[privacy]\nvisitor_id_secret = \"short\"\n", []).unwrap_err();
    assert!(err.to_string().contains("at least 16 bytes"), "{err}");
}

#[test]
fn the_secret_can_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    let config = Config::from_toml_with_env(
        &format!(
            "[privacy]\nvisitor_id_secret_file = {:?}\n",
            path.display().to_string()
        ),
        [],
    )
    .unwrap();
    assert_eq!(config.privacy.visitor_id_secret(), Some(SECRET.as_bytes()));
    assert!(
        !format!("{config:?}").contains(SECRET),
        "Debug never shows it"
    );
}
