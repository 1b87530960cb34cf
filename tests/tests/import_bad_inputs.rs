//! Every bad input of the JSON import API: refused requests with their status, code and
//! metric and nothing in Kafka; bad messages each as one dead-letter record with its
//! reason (found by its messageId in the detail) and nothing on the events topic, while
//! the good message of the same batch is delivered.

use std::{collections::BTreeMap, time::Duration};

use prost::Message as _;
use serde_json::{Value, json};
use sightline_bench::json_baseline::iso8601;
use sightline_proto::v1::RejectedEvent;
use sightline_tests::{
    collector::{TestCollector, gzip, metric, metrics, now_ms},
    import::{SERVER_KEY, import_config, post_import},
    kafka::{end_offsets, events_topic, read_events_from, read_from, topic},
};

/// (name, path, extra headers, body, status, code) of a refused request.
type Refused<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    u16,
    &'a str,
);

fn topics() -> Vec<String> {
    sightline_proto::all_topic_suffixes().map(topic).collect()
}

fn offsets() -> anyhow::Result<BTreeMap<String, Vec<(i32, i64)>>> {
    topics()
        .into_iter()
        .map(|t| end_offsets(&t).map(|o| (t, o)))
        .collect()
}

fn new_records(
    before: &BTreeMap<String, Vec<(i32, i64)>>,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for (t, start) in before {
        let end = end_offsets(t)?;
        let n: i64 = end.iter().zip(start).map(|((_, e), (_, s))| e - s).sum();
        if n != 0 {
            out.insert(t.clone(), n);
        }
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_bad_messages_dead_lettered_with_reasons() -> anyhow::Result<()>
{
    let collector = TestCollector::start(import_config()).await?;
    let run = rand::random::<u32>();
    let user = format!("bad-{run}");
    let now = now_ms();
    let good = |id: &str| json!({"type": "track", "event": "ok", "userId": user, "messageId": id});

    // --- Refused requests: status, code, metric, nothing produced -----------------------
    let huge = "x".repeat(2 * 1024 * 1024);
    let huge_message = json!({"batch": [{"type": "track", "event": "e", "userId": user,
        "properties": {"essay": huge}}]})
    .to_string();
    let mut deep_properties = json!({"leaf": 1});
    for _ in 0..20 {
        deep_properties = json!({ "n": deep_properties });
    }
    let too_many: Vec<Value> = (0..501).map(|i| good(&format!("many-{run}-{i}"))).collect();
    let refused: Vec<Refused> = vec![
        ("empty body", "/v1/batch", vec![], Vec::new(), 400, "empty_body"),
        ("invalid JSON", "/v1/batch", vec![], br#"{"batch":[{"type":"#.to_vec(), 400, "invalid_json"),
        ("not an object", "/v1/import/batch", vec![], b"[1,2,3]".to_vec(), 400, "invalid_json"),
        ("batch not an array", "/v1/batch", vec![], br#"{"batch":{"type":"track"}}"#.to_vec(), 400, "invalid_json"),
        ("single message not an object", "/v1/import/track", vec![], b"\"track\"".to_vec(), 400, "invalid_json"),
        ("2 MB property value", "/v1/batch", vec![], huge_message.clone().into_bytes(), 413, "body_too_large"),
        ("2 MB property value, gzipped", "/v1/batch", vec![("content-encoding", "gzip")],
            gzip(huge_message.as_bytes()), 413, "decompressed_too_large"),
        ("a million nested arrays", "/v1/batch", vec![], "[".repeat(1_000_000).into_bytes()[..400_000].to_vec(), 400, "json_too_deep"),
        ("deeply nested properties", "/v1/batch", vec![],
            json!({"batch": [{"type": "track", "event": "e", "userId": user, "properties": deep_properties}]})
                .to_string().into_bytes(), 400, "json_too_deep"),
        ("501 messages", "/v1/batch", vec![], json!({"batch": too_many}).to_string().into_bytes(), 413, "too_many_events"),
        ("corrupt gzip", "/v1/batch", vec![("content-encoding", "gzip")], b"{\"batch\":[]}".to_vec(), 400, "invalid_gzip"),
        ("brotli", "/v1/batch", vec![("content-encoding", "br")], b"{\"batch\":[]}".to_vec(), 415, "unsupported_encoding"),
    ];
    let before = offsets()?;
    for (name, path, headers, body, status, code) in refused {
        let m0 = metrics(collector.addr).await?;
        let reply = post_import(collector.addr, path, Some(SERVER_KEY), &headers, body).await?;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert_eq!(reply.json()["error"], code, "{name}");
        assert_eq!(reply.json()["code"], code, "{name}");
        let m1 = metrics(collector.addr).await?;
        let sample = format!("sightline_collector_requests_refused_total{{code=\"{code}\"}}");
        assert_eq!(metric(&m1, &sample) - metric(&m0, &sample), 1.0, "{name}");
    }
    assert_eq!(
        new_records(&before)?,
        BTreeMap::new(),
        "refused requests produced records"
    );

    // --- Dead-lettered messages: one record each, with its reason ------------------------
    let id = |case: &str| format!("{case}-{run}");
    let hour = 3_600_000;
    let mut props65 = serde_json::Map::new();
    for i in 0..65 {
        props65.insert(format!("p{i}"), json!(i));
    }
    let cases: Vec<(&str, Value)> = vec![
        (
            "unknown_type",
            json!({"type": "purchase", "userId": user, "messageId": id("unknown-type")}),
        ),
        (
            "unknown_type",
            json!({"event": "no type", "userId": user, "messageId": id("missing-type")}),
        ),
        (
            "invalid_field",
            json!({"type": "track", "event": "e", "userId": {"id": 1}, "messageId": id("user-id-object")}),
        ),
        (
            "invalid_field",
            json!({"type": "track", "event": "e", "userId": user, "properties": [1, 2], "messageId": id("properties-array")}),
        ),
        (
            "invalid_field",
            json!({"type": "track", "userId": user, "messageId": id("no-event-name")}),
        ),
        (
            "invalid_field",
            json!({"type": "track", "event": 42, "userId": user, "messageId": id("event-name-number")}),
        ),
        (
            "invalid_field",
            json!({"type": "track", "event": "e", "userId": user, "timestamp": "yesterday", "messageId": id("timestamp-text")}),
        ),
        (
            "invalid_field",
            json!({"type": "track", "event": "e", "userId": user, "timestamp": now, "messageId": id("timestamp-number")}),
        ),
        (
            "invalid_field",
            json!({"type": "alias", "userId": user, "messageId": id("alias-no-previous")}),
        ),
        ("invalid_field", json!("not a message")),
        (
            "missing_identity",
            json!({"type": "track", "event": "e", "messageId": id("no-ids")}),
        ),
        (
            "timestamp_out_of_window",
            json!({"type": "track", "event": "e", "userId": user,
            "timestamp": iso8601(now - 30 * 24 * hour), "sentAt": iso8601(now), "messageId": id("month-old")}),
        ),
        (
            "timestamp_out_of_window",
            json!({"type": "track", "event": "e", "userId": user,
            "timestamp": iso8601(now + 24 * hour), "sentAt": iso8601(now), "messageId": id("tomorrow")}),
        ),
        (
            "string_too_long",
            json!({"type": "track", "event": "e", "userId": user,
            "properties": {"essay": "y".repeat(2000)}, "messageId": id("long-value")}),
        ),
        (
            "string_too_long",
            json!({"type": "track", "event": "e".repeat(200), "userId": user, "messageId": id("long-name")}),
        ),
        (
            "too_many_properties",
            json!({"type": "track", "event": "e", "userId": user,
            "properties": props65, "messageId": id("many-properties")}),
        ),
    ];
    let mut batch: Vec<Value> = cases.iter().map(|(_, m)| m.clone()).collect();
    batch.push(good(&id("good")));
    let before = offsets()?;
    let reply = post_import(
        collector.addr,
        "/v1/batch",
        Some(SERVER_KEY),
        &[],
        json!({"batch": batch}).to_string().into_bytes(),
    )
    .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["accepted"], 1);
    assert_eq!(reply.json()["rejected"], cases.len());
    let produced = new_records(&before)?;
    let rejected_topic = topic("rejected");
    assert_eq!(
        produced,
        BTreeMap::from([
            (events_topic(), 1),
            (rejected_topic.clone(), cases.len() as i64)
        ]),
        "exactly the good message and one dead letter per bad one"
    );
    let events = read_events_from(
        &events_topic(),
        &before[&events_topic()],
        1,
        Duration::from_secs(20),
    )?;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.message_id, id("good"));
    let records = read_from(
        &rejected_topic,
        &before[&rejected_topic],
        cases.len(),
        Duration::from_secs(20),
    )?;
    let rejected: Vec<RejectedEvent> = records
        .iter()
        .map(|r| RejectedEvent::decode(rdkafka::Message::payload(r).unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    for (reason, message) in &cases {
        let message_id = message["messageId"].as_str().unwrap_or("");
        let found: Vec<&RejectedEvent> = rejected
            .iter()
            .filter(|r| {
                if message_id.is_empty() {
                    r.detail.contains("not a JSON object")
                } else {
                    r.detail.contains(&format!("{message_id:?}"))
                }
            })
            .collect();
        assert_eq!(found.len(), 1, "{message_id}: {rejected:#?}");
        assert_eq!(
            found[0].reason, *reason,
            "{message_id}: {}",
            found[0].detail
        );
        assert_eq!(found[0].site_key, "demo");
        if message.get("userId").and_then(Value::as_str) == Some(user.as_str()) {
            assert_eq!(
                found[0].identity.as_ref().map(|i| i.user_id.as_str()),
                Some(user.as_str())
            );
        }
    }
    let m = metrics(collector.addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_import_messages_total{source=\"backend\",outcome=\"rejected\"}"
        ),
        cases.len() as f64
    );
    assert_eq!(
        metric(
            &m,
            "sightline_collector_events_rejected_total{reason=\"unknown_type\"}"
        ),
        2.0
    );
    collector.stop().await?;
    Ok(())
}
