//! Cluster proof 4: client address truth. Clients on distinct addresses (127.x.y.z in
//! different /24s — loopback answers on all of 127/8) send through HAProxy with forged
//! `X-Forwarded-For`, `Forwarded` and `X-Real-IP` headers; every record of theirs in Kafka
//! carries its sender's real address, truncated to /24 as configured. One client shares
//! the balancer's own address (127.0.0.1, the collectors' trusted proxy): its forged headers
//! are not believed either, because HAProxy strips them. And a forged `X-Forwarded-For`
//! that reaches a collector directly behind a PROXY header from an untrusted client is
//! ignored by the collector itself. Records are read back with `sightline-tail` (the
//! shared reader that prints each event's fields). Run by `scripts/test-cluster.sh`.

use std::{
    collections::BTreeMap,
    net::{IpAddr, SocketAddr},
    process::Command,
    time::Duration,
};

use prost::Message as _;
use sightline_collector::{config::Config, payload::enrich::truncate_ip};
use sightline_proto::v1::{Search, event::Kind};
use sightline_tests::{
    cluster::{
        Edge, ensure_nothing_lost, ensure_only_searches, report_row, topic_ends, topic_growth,
    },
    collector::{batch, request_proxied},
    kafka::bootstrap,
    reliability::{Load, LoadShape, env_secs, repo_root, run_id, start_offsets, verify},
};

const FORGED: [(&str, &str); 3] = [
    ("x-forwarded-for", "203.0.113.9"),
    ("forwarded", "for=198.51.100.7"),
    ("x-real-ip", "192.0.2.1"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Kafka cluster and haproxy: run by scripts/test-cluster.sh"]
async fn records_carry_the_real_client_address() -> anyhow::Result<()> {
    let edge = Edge::start(|_| Vec::new()).await?;
    let start = start_offsets()?;
    let ends_before = topic_ends()?;
    let run = run_id("address");
    let sources: Vec<IpAddr> = ["127.10.1.7", "127.20.2.9", "127.30.3.11", "127.0.0.1"]
        .iter()
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for (sender, source) in sources.iter().enumerate() {
        let truncated = truncated(*source);
        for key in LoadShape::user_keys(&run, sender) {
            expected.insert(key, truncated.clone());
        }
    }
    let mut shape = LoadShape::new(sources.len(), 5, Duration::from_millis(50));
    shape.sources = sources.clone();
    shape.headers = FORGED
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    let load = Load::start_shaped(edge.ports.balancer(), &run, shape);
    tokio::time::sleep(env_secs("SIGHTLINE_CLUSTER_ADDRESS_S", 4)).await;
    let mut stats = load.finish().await;

    // Straight to a collector, as if HAProxy had not stripped the header: the PROXY source
    // (an untrusted client) is the address; its X-Forwarded-For is not believed.
    let direct_key = format!("{run}-direct");
    let source: SocketAddr = "127.40.4.4:40000".parse()?;
    expected.insert(direct_key.clone(), truncated(source.ip()));
    let direct = batch(
        &direct_key,
        "",
        vec![Kind::Search(Search {
            query: "direct".into(),
            results_count: 1,
        })],
    );
    let reply = request_proxied(
        edge.ports.collector(0),
        Some(source),
        http::Method::POST,
        "/v1/batch",
        &[("content-type", "application/x-protobuf"), FORGED[0]],
        direct.encode_to_vec(),
    )
    .await?;
    anyhow::ensure!(
        reply.status == 200,
        "direct post: {} {}",
        reply.status,
        reply.body
    );
    stats
        .acked
        .extend(direct.events.iter().map(|e| e.event_id.clone()));
    *stats.statuses.entry(200).or_default() += 1;

    let verdict = verify(&run, &start, &stats.acked, Duration::from_secs(120))?;
    ensure_nothing_lost(&verdict)?;
    let written = topic_growth(&ends_before, &topic_ends()?);

    // Every record of this run, through the shared reader.
    let keys: Vec<&str> = expected.keys().map(String::as_str).collect();
    let tail = std::env::var_os("SIGHTLINE_TAIL").map_or_else(
        || repo_root().join("target/debug/sightline-tail"),
        Into::into,
    );
    let output = Command::new(&tail)
        .args([
            "--brokers",
            &bootstrap(),
            "--topic",
            // Layout v2 (the default): every event of a request in one record here.
            "events",
            "--from-beginning",
            "--until-end",
        ])
        .args(["--until-end-timeout-secs", "120", "--user", &keys.join(",")])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "sightline-tail failed: {}",
        output.status
    );
    let mut seen_by_address: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut records = 0;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let json: serde_json::Value = serde_json::from_str(line)?;
        let key = json["key"].as_str().unwrap_or_default();
        let Some(want) = expected.get(key) else {
            continue;
        };
        records += 1;
        let got = json["collected"]["client_ip"].as_str().unwrap_or("<none>");
        *seen_by_address.entry(got.to_owned()).or_default() += 1;
        if got != want {
            wrong.push(format!("{key}: {got} (expected {want})"));
        }
    }
    let details = format!(
        "{records} records checked, {} with a wrong address; by address {seen_by_address:?}; \
         forged {:?} sent on every request; records written {written:?}",
        wrong.len(),
        FORGED.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
    report_row(
        "4 client address truth",
        &verdict,
        &stats.statuses,
        &details,
    );
    anyhow::ensure!(
        records as u64 >= verdict.acked as u64,
        "every acknowledged event was read back ({records} of {})",
        verdict.acked
    );
    anyhow::ensure!(
        wrong.is_empty(),
        "records with the wrong client address: {wrong:?}"
    );
    ensure_only_searches(&written)?;
    for want in expected.values() {
        anyhow::ensure!(seen_by_address.contains_key(want), "no record from {want}");
    }
    anyhow::ensure!(
        stats.statuses.keys().all(|s| *s == 200),
        "{:?}",
        stats.statuses
    );
    Ok(())
}

/// `ip` truncated as the collectors are configured (the example config's defaults).
fn truncated(ip: IpAddr) -> String {
    let limits = Config::default().limits;
    truncate_ip(ip, limits.ipv4_prefix, limits.ipv6_prefix).to_string()
}
