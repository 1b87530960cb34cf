//! The JSON import API against the real broker: every Segment message type from a server
//! source and an app source reaches Kafka as the documented `CollectedEvent` (kind, key,
//! source fields, dedup id stable across a retry); wrong or missing write keys are 401
//! with nothing produced; CORS stays off; the browser's protobuf path is unaffected.

use std::time::Duration;

use prost::Message as _;
use serde_json::json;
use sightline_bench::json_baseline::iso8601;
use sightline_proto::v1::{
    DeviceClass, EventKind, EventSource, Navigation, event::Kind, property::Value as PropertyValue,
};
use sightline_tests::{
    collector::{TestCollector, batch, gzip, metric, metrics, now_ms, post_batch},
    import::{APP_KEY, SERVER_KEY, import_config, post_import},
    kafka::{end_offsets, events_topic, read_events_from, read_from, topic},
};

/// The tests of this file run one at a time: the second counts every record produced
/// while it runs.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn uuid_bytes(uuid: &str) -> Vec<u8> {
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

fn property<'a>(
    properties: &'a [sightline_proto::v1::Property],
    key: &str,
) -> Option<&'a PropertyValue> {
    properties
        .iter()
        .find(|p| p.key == key)
        .and_then(|p| p.value.as_ref())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_type_reaches_kafka_as_documented_with_a_stable_event_id()
-> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let collector = TestCollector::start(import_config()).await?;
    let run = rand::random::<u32>();
    let user = format!("u-{run}");
    let anon = format!("a-{run}");
    let now = now_ms();
    let uuid = |i: u32| format!("{run:08x}-0000-4000-8000-{i:012x}");
    let context = json!({
        "library": {"name": "analytics-node", "version": "3.1.0"},
        "ip": "198.51.100.77",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Student",
        "page": {"url": "https://campus.example/courses/42", "referrer": "https://campus.example/search"},
        "locale": "en-IN",
        "traits": {"college": "IIT Delhi", "cohort": 2027},
        "campaign": {"name": "fall-fair", "source": "newsletter", "medium": "email"},
        "screen": {"width": 412, "height": 915, "density": 2.625},
        "timezone": "+05:30",
        "device": {"type": "android", "manufacturer": "Google", "model": "Pixel 8"},
        "os": {"name": "Android", "version": "14.0"},
        "app": {"name": "CampusLearn", "version": "2.3.0", "build": "230"},
    });
    // The page URL with the campaign's UTM parameters, as the browser SDK keeps them.
    let campaign_url = "https://campus.example/courses/42?utm_source=newsletter&utm_medium=email&utm_campaign=fall-fair";
    let body = json!({
        "batch": [
            {"type": "track", "event": "Course Enrolled", "userId": user, "anonymousId": anon,
             "messageId": uuid(1), "timestamp": iso8601(now - 1000), "context": context,
             "properties": {"course_id": "c-42", "revenue": 49.5, "seats": 2, "paid": true,
                            "plan": {"tier": "pro"}, "tags": ["a", "b"], "coupon": null}},
            {"type": "page", "name": "Course", "userId": user, "messageId": uuid(2),
             "timestamp": iso8601(now - 900), "context": context, "properties": {"title": "ignored"}},
            {"type": "screen", "name": "Home", "userId": user, "messageId": uuid(3),
             "timestamp": iso8601(now - 800), "context": context},
            {"type": "identify", "userId": user, "anonymousId": anon, "messageId": uuid(4),
             "traits": {"college": "IIT Delhi", "cohort": "2027"}, "context": context},
            {"type": "group", "userId": user, "groupId": "iit-delhi", "messageId": uuid(5),
             "traits": {"name": "IIT Delhi"}, "context": context},
            {"type": "alias", "userId": user, "previousId": anon, "messageId": format!("m-{run}-6"),
             "context": context},
        ],
        "sentAt": iso8601(now),
    });
    let before = end_offsets(&events_topic())?;
    let reply = post_import(
        collector.addr,
        "/v1/batch",
        Some(SERVER_KEY),
        &[],
        body.to_string().into_bytes(),
    )
    .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"success": true, "accepted": 6, "rejected": 0})
    );

    let events = read_events_from(&events_topic(), &before, 6, Duration::from_secs(20))?;
    let mine: Vec<_> = events.iter().filter(|e| e.event.user_key == user).collect();
    assert_eq!(mine.len(), 6);
    let kinds: Vec<i32> = mine.iter().map(|e| e.event.kind).collect();
    let custom = EventKind::Custom as i32;
    let page_view = EventKind::PageView as i32;
    assert_eq!(kinds.iter().filter(|k| **k == custom).count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == page_view).count(), 2);
    for read in &mine {
        let e = &read.event;
        assert_eq!(read.key(), Some(user.as_bytes()), "keyed by user id");
        assert_eq!(e.source, EventSource::Server as i32);
        assert_eq!(e.source_name, "backend");
        assert_eq!(e.library_name, "analytics-node");
        assert_eq!(e.library_version, "3.1.0");
        assert_eq!(e.client_ip, "198.51.100.0", "trusted context.ip, truncated");
        assert_eq!(e.user_agent, "Mozilla/5.0 (X11; Linux x86_64) Student");
        assert_eq!(e.site_key, "demo");
        assert_eq!(e.context.as_ref().map(|c| c.locale.as_str()), Some("en-IN"));
        let page_context = e.context.clone().unwrap_or_default();
        assert_eq!(page_context.url, campaign_url);
        assert_eq!(
            (
                page_context.screen_width,
                page_context.screen_height,
                page_context.device_pixel_ratio,
                page_context.timezone_offset_min
            ),
            (412, 915, 2.625, 330)
        );
        // context.device/os win over the agent's parse (Linux desktop); the browser and
        // its version stay the agent's.
        let device = e.device.clone().unwrap_or_default();
        assert_eq!(
            device.device_class,
            DeviceClass::Mobile as i32,
            "{device:?}"
        );
        assert_eq!((device.os.as_str(), device.os_major), ("Android", 14));
        let app = e.app.clone().unwrap_or_default();
        assert_eq!(
            (app.name.as_str(), app.version.as_str(), app.build.as_str()),
            ("CampusLearn", "2.3.0", "230"),
            "context.app is kept"
        );
        assert_eq!(e.traffic_class, 0, "imported events are not classified");
        let identity = e.identity.clone().unwrap_or_default();
        assert_eq!(
            identity.traits.get("cohort").map(String::as_str),
            Some("2027")
        );
        let event = e.event.clone().unwrap_or_default();
        if e.message_id.starts_with("m-") {
            assert_eq!(
                event.event_id.len(),
                16,
                "non-UUID ids are hashed to 16 bytes"
            );
        } else {
            assert_eq!(
                event.event_id,
                uuid_bytes(&e.message_id),
                "UUID message id = event id"
            );
        }
        assert!(
            (e.event_time_ms - now).abs() < 30_000,
            "clock-corrected time near now: {}",
            e.event_time_ms - now
        );
    }
    let by_id = |id: &str| {
        mine.iter()
            .find(|e| e.event.message_id == id)
            .and_then(|e| e.event.event.clone())
            .and_then(|e| e.kind)
    };
    let Some(Kind::Custom(track)) = by_id(&uuid(1)) else {
        panic!("track is a custom event")
    };
    assert_eq!(track.name, "Course Enrolled");
    let p = &track.properties;
    assert_eq!(
        property(p, "course_id"),
        Some(&PropertyValue::StringValue("c-42".into()))
    );
    assert_eq!(
        property(p, "revenue"),
        Some(&PropertyValue::NumberValue(49.5))
    );
    assert_eq!(property(p, "seats"), Some(&PropertyValue::IntValue(2)));
    assert_eq!(property(p, "paid"), Some(&PropertyValue::BoolValue(true)));
    assert_eq!(
        property(p, "plan.tier"),
        Some(&PropertyValue::StringValue("pro".into()))
    );
    assert_eq!(
        property(p, "tags"),
        Some(&PropertyValue::StringValue(r#"["a","b"]"#.into()))
    );
    assert_eq!(property(p, "coupon"), None);
    let Some(Kind::PageView(page)) = by_id(&uuid(2)) else {
        panic!("page is a page view")
    };
    assert_eq!(page.url, campaign_url);
    assert_eq!(page.referrer, "https://campus.example/search");
    assert_eq!((page.name.as_str(), page.screen), ("Course", false));
    assert_eq!(page.navigation, Navigation::Manual as i32);
    let Some(Kind::PageView(screen)) = by_id(&uuid(3)) else {
        panic!("screen is a page view")
    };
    assert_eq!(
        (screen.name.as_str(), screen.screen, screen.url.as_str()),
        ("Home", true, "")
    );
    let names: Vec<String> = [uuid(4), uuid(5), format!("m-{run}-6")]
        .iter()
        .map(|id| match by_id(id) {
            Some(Kind::Custom(c)) => c.name,
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["$identify", "$group", "$alias"]);

    // A retry of the same batch carries the same event ids (consumers deduplicate).
    let before_retry = end_offsets(&events_topic())?;
    let retry = post_import(
        collector.addr,
        "/v1/batch",
        Some(SERVER_KEY),
        &[],
        body.to_string().into_bytes(),
    )
    .await?;
    assert_eq!(retry.status, 200);
    let again = read_events_from(&events_topic(), &before_retry, 6, Duration::from_secs(20))?;
    let ids = |events: &[&sightline_tests::kafka::ReadEvent]| {
        let mut ids: Vec<Vec<u8>> = events
            .iter()
            .map(|e| e.event.event.clone().unwrap_or_default().event_id)
            .collect();
        ids.sort();
        ids
    };
    let again: Vec<_> = again.iter().filter(|e| e.event.user_key == user).collect();
    assert_eq!(ids(&again), ids(&mine));

    // An app source, a single-message path, a gzip body, an untrusted context.ip.
    let before_app = end_offsets(&events_topic())?;
    let single = json!({"event": "Lesson Opened", "anonymousId": anon, "messageId": uuid(7),
        "context": {"ip": "203.0.113.5", "library": {"name": "analytics-ios", "version": "4.1"}},
        "properties": {"lesson": 3}});
    let reply = post_import(
        collector.addr,
        "/v1/import/track",
        Some(APP_KEY),
        &[("content-encoding", "gzip")],
        gzip(single.to_string().as_bytes()),
    )
    .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Segment's own spelling of the path.
    let screen = json!({"name": "Lesson", "anonymousId": anon, "messageId": uuid(8)});
    let reply = post_import(
        collector.addr,
        "/v1/screen",
        Some(APP_KEY),
        &[],
        screen.to_string().into_bytes(),
    )
    .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let app = read_events_from(&events_topic(), &before_app, 2, Duration::from_secs(20))?;
    let app: Vec<_> = app.iter().filter(|e| e.event.user_key == anon).collect();
    assert_eq!(app.len(), 2);
    for read in &app {
        assert_eq!(read.event.source, EventSource::App as i32);
        assert_eq!(read.event.source_name, "ios");
        assert_eq!(
            read.event.client_ip, "127.0.0.0",
            "context.ip of an untrusted source is ignored"
        );
        assert_eq!(read.key(), Some(anon.as_bytes()));
    }

    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_import_messages_total{source=\"backend\",outcome=\"accepted\"}"
        ),
        12.0
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_import_messages_total{source=\"ios\",outcome=\"accepted\"}"
        ),
        2.0
    );
    collector.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_write_keys_are_401_with_nothing_produced_and_cors_stays_off()
-> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let collector = TestCollector::start(import_config()).await?;
    let run = rand::random::<u32>();
    let message = json!({"type": "track", "event": "x", "userId": format!("k-{run}")});
    let topics = [events_topic(), topic("rejected")];
    let before: Vec<_> = topics
        .iter()
        .map(|t| end_offsets(t))
        .collect::<Result<_, _>>()?;
    let batch_body = json!({"batch": [message]}).to_string().into_bytes();
    for (path, key) in [
        ("/v1/batch", Some("test-server-write-key-0002")),
        ("/v1/batch", None),
        ("/v1/import/track", Some("")),
        (
            "/v1/import/batch",
            Some(&SERVER_KEY[..SERVER_KEY.len() - 1]),
        ),
    ] {
        let body = if path == "/v1/import/track" {
            message.to_string().into_bytes()
        } else {
            batch_body.clone()
        };
        let reply = post_import(collector.addr, path, key, &[], body).await?;
        assert_eq!(reply.status, 401, "{path} {key:?}: {}", reply.body);
        assert_eq!(reply.json()["error"], "unauthorized");
        // The fields the Segment and RudderStack libraries read.
        assert_eq!(reply.json()["code"], "unauthorized");
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(
            !reply.body.contains("test-server"),
            "the key is never echoed"
        );
    }
    // CORS is off on import paths: no preflight, no allow-origin.
    let preflight = sightline_tests::collector::request(
        &sightline_tests::collector::client(),
        http::Method::OPTIONS,
        &format!("http://{}/v1/import/track", collector.addr),
        &[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "POST"),
        ],
        Vec::new(),
    )
    .await?;
    assert_eq!(preflight.status, 405);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    let with_origin = post_import(
        collector.addr,
        "/v1/import/track",
        Some(SERVER_KEY),
        &[("origin", "http://localhost:3000")],
        b"{".to_vec(),
    )
    .await?;
    assert_eq!(with_origin.status, 400);
    assert_eq!(with_origin.header("access-control-allow-origin"), None);
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_requests_refused_total{code=\"unauthorized\"}"
        ),
        4.0
    );

    // Nothing reached Kafka: read exactly up to the current ends.
    for (t, start) in topics.iter().zip(&before) {
        let end = end_offsets(t)?;
        let new: i64 = end.iter().zip(start).map(|((_, e), (_, s))| e - s).sum();
        assert_eq!(new, 0, "{t}: {new} records");
        assert!(read_from(t, start, 1, Duration::from_millis(500))?.is_empty());
    }

    // The browser's protobuf batches on the same path are unaffected.
    let anon = format!("b-{run}");
    let before = end_offsets(&events_topic())?;
    let sdk = batch(
        &anon,
        "",
        vec![Kind::Search(sightline_proto::v1::Search {
            query: "rust".into(),
            results_count: 3,
        })],
    );
    let reply = post_batch(collector.addr, "", &[], sdk.encode_to_vec()).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = read_events_from(&events_topic(), &before, 1, Duration::from_secs(20))?;
    let event = events
        .iter()
        .find(|e| e.event.user_key == anon)
        .map(|e| &e.event);
    assert_eq!(
        event.map(|e| e.source),
        Some(EventSource::Unspecified as i32)
    );
    assert_eq!(event.map(|e| e.source_name.as_str()), Some(""));
    collector.stop().await?;
    Ok(())
}
