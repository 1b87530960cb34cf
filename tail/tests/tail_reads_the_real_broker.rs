//! Produce keyed CollectedEvents to the broker of `make test` (SIGHTLINE_KAFKA) and check
//! that the `sightline-tail` binary prints exactly them, filtered by user and kind.

use std::{process::Command, time::Duration};

use prost::Message as _;
use rdkafka::{
    ClientConfig,
    producer::{BaseProducer, BaseRecord, Producer},
};
use sightline_proto::v1::{AdClick, CollectedEvent, Event, Identity, Search, event::Kind};

fn bootstrap() -> String {
    std::env::var("SIGHTLINE_KAFKA").unwrap_or_else(|_| {
        panic!(
            "SIGHTLINE_KAFKA is not set: run with `make test` or `make kafka-up` + SIGHTLINE_KAFKA"
        )
    })
}

fn collected(user: &str, seq: u64, kind: Kind) -> CollectedEvent {
    let event_kind = sightline_proto::kind_of(Some(&kind));
    CollectedEvent {
        kind: event_kind as i32,
        user_key: user.to_owned(),
        site_key: "demo".into(),
        identity: Some(Identity {
            anonymous_id: format!("anon-{user}"),
            user_id: user.to_owned(),
            ..Default::default()
        }),
        event: Some(Event {
            event_id: [seq as u8; 16].to_vec(),
            seq,
            kind: Some(kind),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn tail(args: &[&str]) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_sightline-tail"))
        .args(["--brokers", &bootstrap(), "--from-beginning", "--until-end"])
        .args(["--until-end-timeout-secs", "30"])
        .args(args)
        .output()
        .expect("sightline-tail runs");
    assert!(
        output.status.success(),
        "tail failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect()
}

#[test]
fn prints_decoded_events_filtered_by_user_and_kind() {
    let run = rand::random::<u32>();
    let asha = format!("tail-test-asha-{run}");
    let ravi = format!("tail-test-ravi-{run}");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("partitioner", "murmur2_random")
        .create()
        .expect("producer");
    let records = [
        (
            "sightline.searches",
            collected(
                &asha,
                1,
                Kind::Search(Search {
                    query: "calculus".into(),
                    results_count: 3,
                }),
            ),
        ),
        (
            "sightline.searches",
            collected(
                &ravi,
                1,
                Kind::Search(Search {
                    query: "python".into(),
                    results_count: 2,
                }),
            ),
        ),
        (
            "sightline.ad_clicks",
            collected(&asha, 2, Kind::AdClick(AdClick::default())),
        ),
    ];
    for (topic, event) in &records {
        let payload = event.encode_to_vec();
        producer
            .send(BaseRecord::to(topic).key(&event.user_key).payload(&payload))
            .map_err(|(err, _)| err)
            .expect("queued");
    }
    producer.flush(Duration::from_secs(10)).expect("delivered");

    let asha_lines = tail(&["--topic", "searches,ad_clicks", "--user", &asha]);
    assert_eq!(asha_lines.len(), 2, "{asha_lines:?}");
    let search = asha_lines
        .iter()
        .find(|l| l["kind"] == "search")
        .expect("search line");
    assert_eq!(search["topic"], "sightline.searches");
    assert_eq!(search["key"], asha.as_str());
    assert_eq!(
        search["collected"]["event"]["kind"]["Search"]["query"],
        "calculus"
    );
    assert_eq!(search["collected"]["event"]["event_id"], "01".repeat(16));
    assert!(
        asha_lines
            .iter()
            .any(|l| l["kind"] == "ad_click" && l["topic"] == "sightline.ad_clicks")
    );

    let searches = tail(&[
        "--topic",
        "searches",
        "--kind",
        "search",
        "--user",
        &format!("{asha},{ravi}"),
    ]);
    assert_eq!(searches.len(), 2, "{searches:?}");
    let only_clicks = tail(&["--kind", "ad_click", "--user", &ravi]);
    assert!(only_clicks.is_empty(), "{only_clicks:?}");
}

#[test]
fn prints_every_event_of_a_v2_record_in_order() {
    use rdkafka::message::{Header, OwnedHeaders};
    use sightline_proto::record::{LAYOUT_DELIMITED_V2, LAYOUT_HEADER, push_delimited};
    let run = rand::random::<u32>();
    let user = format!("tail-test-v2-{run}");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("partitioner", "murmur2_random")
        .create()
        .expect("producer");
    let mut payload = Vec::new();
    push_delimited(
        &collected(
            &user,
            1,
            Kind::Search(Search {
                query: "calculus".into(),
                results_count: 3,
            }),
        ),
        &mut payload,
    );
    push_delimited(
        &collected(&user, 2, Kind::AdClick(AdClick::default())),
        &mut payload,
    );
    producer
        .send(
            BaseRecord::to("sightline.events")
                .key(&user)
                .payload(&payload)
                .headers(OwnedHeaders::new().insert(Header {
                    key: LAYOUT_HEADER,
                    value: Some(LAYOUT_DELIMITED_V2),
                })),
        )
        .map_err(|(err, _)| err)
        .expect("queued");
    producer.flush(Duration::from_secs(10)).expect("delivered");

    let lines = tail(&["--topic", "events", "--user", &user]);
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert_eq!(kinds, ["search", "ad_click"], "{lines:?}");
    assert_eq!(lines[0]["offset"], lines[1]["offset"], "one record");
    assert_eq!(lines[0]["index"], 0);
    assert_eq!(lines[1]["index"], 1);
    let only_clicks = tail(&["--topic", "events", "--kind", "ad_click", "--user", &user]);
    assert_eq!(only_clicks.len(), 1, "{only_clicks:?}");
}

#[test]
fn unknown_topic_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_sightline-tail"))
        .args([
            "--brokers",
            &bootstrap(),
            "--topic",
            "no_such_topic",
            "--until-end",
        ])
        .output()
        .expect("sightline-tail runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("sightline.no_such_topic"), "{stderr}");
}
