//! Device, geo and network enrichment end to end: a real collector behind PROXY v2 with City
//! and ASN databases written by an independent implementation (`tests/mmdb/`, PyPI
//! mmdb-writer), events read back from the real broker. 203.0.113.0/24 is a data center in
//! Karnataka, 198.51.100.0/24 a campus ISP in Maharashtra. The City database is then
//! replaced while the collector runs, and its new answer shows up without a restart.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use prost::Message as _;
use sightline_collector::http::proxy_protocol;
use sightline_proto::v1::{
    CollectedEvent, DeviceClass, IvtReason, PageView, Search, TrafficClass, event::Kind,
};
use sightline_tests::{
    collector::{TestCollector, batch, test_config},
    kafka::{end_offsets, events_topic, read_events_from},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs tests/mmdb/make_test_mmdb.py into `dir` (the venv comes from `scripts/ensure.sh test`).
fn make_databases(dir: &Path, city: &str) -> anyhow::Result<()> {
    let python = repo().join(".cache/mmdb-venv/bin/python");
    anyhow::ensure!(
        python.exists(),
        "{} missing: run `scripts/ensure.sh venv-mmdb`",
        python.display()
    );
    let status = Command::new(python)
        .arg(repo().join("tests/mmdb/make_test_mmdb.py"))
        .arg(dir)
        .arg(city)
        .status()?;
    anyhow::ensure!(status.success(), "make_test_mmdb.py failed: {status}");
    Ok(())
}

/// One batch (a page view and a search) from `source` through the PROXY v2 header.
async fn post_from(addr: SocketAddr, source: &str, anon: &str) -> anyhow::Result<String> {
    let body = batch(
        anon,
        "",
        vec![
            Kind::PageView(PageView::default()),
            Kind::Search(Search {
                query: "gate prep".into(),
                results_count: 3,
            }),
        ],
    )
    .encode_to_vec();
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(&proxy_protocol::encode(source.parse()?, addr))
        .await?;
    let head = format!(
        "POST /v1/batch HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/x-protobuf\r\nuser-agent: {CHROME}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await??;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// The events of `anon` from `start` on (waits for `count`).
fn events_of(
    topic: &str,
    start: &[(i32, i64)],
    anon: &str,
    count: usize,
) -> anyhow::Result<Vec<CollectedEvent>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mine: Vec<CollectedEvent> =
            read_events_from(topic, start, usize::MAX, Duration::from_secs(2))?
                .into_iter()
                .map(|e| e.event)
                .filter(|e| e.identity.as_ref().is_some_and(|i| i.anonymous_id == anon))
                .collect();
        if mine.len() >= count || Instant::now() > deadline {
            return Ok(mine);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_carry_device_region_and_network_and_data_centers_are_givt() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    make_databases(dir.path(), "Bengaluru")?;
    let topic = events_topic();
    let start = end_offsets(&topic)?;
    let mut config = test_config();
    config.server.proxy_protocol = true;
    config.enrich.city_db = dir.path().join("city.mmdb");
    config.enrich.asn_db = dir.path().join("asn.mmdb");
    config.enrich.datacenter_asns = vec![64500];
    config.enrich.reload_interval_ms = 200;
    let collector = TestCollector::start(config).await?;
    let run = rand::random::<u32>();

    let from_cloud = format!("enrich-{run}-cloud");
    let reply = post_from(collector.addr, "203.0.113.77:40000", &from_cloud).await?;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let from_campus = format!("enrich-{run}-campus");
    let reply = post_from(collector.addr, "198.51.100.9:40000", &from_campus).await?;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");

    let cloud = events_of(&topic, &start, &from_cloud, 2)?;
    assert_eq!(cloud.len(), 2, "both events of the data-center batch");
    for event in &cloud {
        // The full address was used for the lookups; only its /24 leaves the collector.
        assert_eq!(event.client_ip, "203.0.113.0");
        let geo = event.geo.as_ref().context("geo")?;
        assert_eq!(
            (geo.country.as_str(), geo.region.as_str(), geo.city.as_str()),
            ("IN", "KA", "Bengaluru")
        );
        let network = event.network.as_ref().context("network")?;
        assert_eq!(
            (network.asn, network.as_org.as_str(), network.datacenter),
            (64500, "Example Cloud", true)
        );
        assert_eq!(event.traffic_class(), TrafficClass::Givt);
        assert_eq!(
            event.ivt_reasons().collect::<Vec<_>>(),
            vec![IvtReason::Datacenter]
        );
        let device = event.device.as_ref().context("device")?;
        assert_eq!(device.device_class(), DeviceClass::Desktop);
        assert_eq!(
            (device.browser.as_str(), device.browser_major),
            ("Chrome", 131)
        );
    }
    let campus = events_of(&topic, &start, &from_campus, 2)?;
    assert_eq!(campus.len(), 2);
    for event in &campus {
        let geo = event.geo.as_ref().context("geo")?;
        assert_eq!((geo.region.as_str(), geo.city.as_str()), ("MH", "Mumbai"));
        let network = event.network.as_ref().context("network")?;
        assert_eq!((network.asn, network.datacenter), (64501, false));
        assert_eq!(event.traffic_class(), TrafficClass::Valid);
        assert!(event.ivt_reasons.is_empty());
    }

    // A new City database replaces the file: the collector picks it up without a restart.
    make_databases(dir.path(), "Mysuru")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut city = String::new();
    for attempt in 0.. {
        let anon = format!("enrich-{run}-reload-{attempt}");
        let at = end_offsets(&topic)?;
        let reply = post_from(collector.addr, "203.0.113.78:40000", &anon).await?;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        let events = events_of(&topic, &at, &anon, 2)?;
        city = events
            .first()
            .and_then(|e| e.geo.as_ref())
            .map(|g| g.city.clone())
            .unwrap_or_default();
        if city == "Mysuru" || Instant::now() > deadline {
            break;
        }
    }
    assert_eq!(city, "Mysuru", "the replaced database was not reloaded");
    collector.stop().await?;
    Ok(())
}
