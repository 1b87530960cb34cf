//! `sightline-admin erase` against the broker of `make test` (SIGHTLINE_KAFKA): the request
//! is read back from Kafka with its key and JSON value, the topic it created is compacted,
//! and bad arguments fail with a clear message and no record.

use std::{process::Command, time::Duration};

use futures::executor::block_on;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    admin::{AdminClient, AdminOptions, ResourceSpecifier},
    client::DefaultClientContext,
    consumer::{BaseConsumer, Consumer},
};

fn bootstrap() -> String {
    std::env::var("SIGHTLINE_KAFKA").unwrap_or_else(|_| {
        panic!(
            "SIGHTLINE_KAFKA is not set: run with `make test` or `make kafka-up` + SIGHTLINE_KAFKA"
        )
    })
}

fn admin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sightline-admin"))
        .args(args)
        .env("SIGHTLINE_KAFKA", bootstrap())
        .output()
        .expect("sightline-admin runs")
}

#[test]
fn erase_writes_the_request_to_a_compacted_topic() {
    let run = rand::random::<u32>();
    // A topic of this run's own, so the test also proves the tool creates it compacted.
    let topic = format!("sightline.erasures-test-{run}");
    let user = format!("stu-{run}");
    let output = admin(&[
        "erase",
        "--topic",
        &topic,
        "--site",
        "demo",
        "--user-id",
        &user,
        "--reason",
        "DPDP s.12 request #42",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    assert_eq!(printed["erasure_request"]["id_kind"], "user_id");
    assert_eq!(printed["erasure_request"]["id"], user.as_str());
    let partition = i32::try_from(printed["partition"].as_i64().unwrap()).unwrap();
    let offset = printed["offset"].as_i64().unwrap();

    // Read it back at the printed position.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", format!("erase-test-{run}"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(&topic, partition, Offset::Offset(offset))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let message = loop {
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            break message.unwrap().detach();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the request is not in {topic}"
        );
    };
    assert_eq!(
        message.key(),
        Some(format!("demo\tuser_id\t{user}").as_bytes())
    );
    let value: serde_json::Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
    assert_eq!(value["site"], "demo");
    assert_eq!(value["id_kind"], "user_id");
    assert_eq!(value["id"], user.as_str());
    assert_eq!(value["reason"], "DPDP s.12 request #42");
    assert!(value["requested_at_ms"].as_i64().unwrap() > 1_700_000_000_000);

    let admin_client: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .unwrap();
    let configs = block_on(
        admin_client.describe_configs([&ResourceSpecifier::Topic(&topic)], &AdminOptions::new()),
    )
    .unwrap();
    let policy = configs[0]
        .as_ref()
        .unwrap()
        .get("cleanup.policy")
        .and_then(|e| e.value.clone());
    assert_eq!(policy.as_deref(), Some("compact"));

    // A second request for the same person: same key, so compaction keeps only the latest.
    let again = admin(&[
        "erase",
        "--topic",
        &topic,
        "--site",
        "demo",
        "--user-id",
        &user,
    ]);
    assert!(again.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(printed["key"], format!("demo\tuser_id\t{user}"));
    assert!(printed["offset"].as_i64().unwrap() > offset);
}

#[test]
fn bad_arguments_fail_clearly() {
    for (args, expected) in [
        (vec!["erase", "--site", "demo"], "--user-id"),
        (
            vec![
                "erase",
                "--site",
                "demo",
                "--user-id",
                "u",
                "--visitor-id",
                "v",
            ],
            "cannot be used with",
        ),
        (
            vec!["erase", "--site", "", "--user-id", "u"],
            "--site is empty",
        ),
        (
            vec!["erase", "--site", "demo", "--anonymous-id", "a\tb"],
            "control character",
        ),
    ] {
        let output = admin(&args);
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed a request");
    }
}
