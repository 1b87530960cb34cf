//! HTTP surface: CORS preflight, health and readiness, h2c, PROXY protocol v2 and
//! trusted X-Forwarded-For as seen in the records' truncated client IP.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use prost::Message as _;

use sightline_collector::http::proxy_protocol;
use sightline_proto::v1::{Click, event::Kind};
use sightline_tests::{
    collector::{ALLOWED_ORIGIN, TestCollector, batch, client, get, request, test_config},
    kafka::{end_offsets, events_topic, read_events_from},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_allows_only_configured_origins_and_probes_answer() -> anyhow::Result<()> {
    let collector = TestCollector::start(test_config()).await?;
    let url = format!("http://{}/v1/batch?site=demo", collector.addr);
    let ok = request(
        &client(),
        http::Method::OPTIONS,
        &url,
        &[
            ("origin", ALLOWED_ORIGIN),
            ("access-control-request-method", "POST"),
        ],
        vec![],
    )
    .await?;
    assert_eq!(ok.status, 204);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert!(
        ok.header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST"))
    );
    let evil = request(
        &client(),
        http::Method::OPTIONS,
        &url,
        &[("origin", "https://evil.example")],
        vec![],
    )
    .await?;
    assert_eq!(evil.status, 403);
    assert_eq!(evil.header("access-control-allow-origin"), None);

    assert_eq!(get(collector.addr, "/healthz").await?.status, 200);
    let ready = get(collector.addr, "/readyz").await?;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let metrics = get(collector.addr, "/metrics").await?;
    assert!(
        metrics
            .body
            .contains("sightline_collector_producer_queue_depth")
    );
    assert_eq!(
        get(collector.addr, "/nope").await?.json()["error"],
        "not_found"
    );
    assert_eq!(get(collector.addr, "/v1/batch").await?.status, 405);
    collector.stop().await
}

async fn client_ip_of(
    topic_name: &str,
    start: &[(i32, i64)],
    anon: &str,
) -> anyhow::Result<String> {
    let events = read_events_from(topic_name, start, usize::MAX, Duration::from_secs(2))?;
    let read = events
        .iter()
        .find(|e| e.key() == Some(anon.as_bytes()))
        .ok_or_else(|| anyhow::anyhow!("record of {anon} not found"))?;
    Ok(read.event.client_ip.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_protocol_and_trusted_forwarded_for_set_the_truncated_client_ip() -> anyhow::Result<()>
{
    let clicks = events_topic();
    let start = end_offsets(&clicks)?;
    let mut config = test_config();
    config.server.proxy_protocol = true;
    config.server.trusted_proxies = vec!["198.51.100.0/24".parse()?];
    let collector = TestCollector::start(config).await?;
    let run = rand::random::<u32>();

    // The load balancer says the client is 203.0.113.77 (untrusted): XFF is ignored.
    let anon_direct = format!("pp-{run}-direct");
    let reply = raw_post(
        collector.addr,
        "203.0.113.77:40000",
        &[("x-forwarded-for", "1.2.3.4")],
        &anon_direct,
    )
    .await?;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    // The load balancer is talking for a trusted proxy: the rightmost untrusted XFF hop counts.
    let anon_proxied = format!("pp-{run}-proxied");
    let reply = raw_post(
        collector.addr,
        "198.51.100.5:40000",
        &[("x-forwarded-for", "6.6.6.6, 192.0.2.200")],
        &anon_proxied,
    )
    .await?;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    // No PROXY header at all: the connection is dropped.
    let mut bare = TcpStream::connect(collector.addr).await?;
    bare.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await?;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), bare.read_to_end(&mut buf)).await;
    assert!(
        !String::from_utf8_lossy(&buf).contains("200"),
        "no answer without PROXY header"
    );
    collector.stop().await?;

    assert_eq!(
        client_ip_of(&clicks, &start, &anon_direct).await?,
        "203.0.113.0"
    );
    assert_eq!(
        client_ip_of(&clicks, &start, &anon_proxied).await?,
        "192.0.2.0"
    );
    Ok(())
}

async fn raw_post(
    addr: std::net::SocketAddr,
    source: &str,
    headers: &[(&str, &str)],
    anon: &str,
) -> anyhow::Result<String> {
    let body = batch(anon, "", vec![Kind::Click(Click::default())]).encode_to_vec();
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(&proxy_protocol::encode(source.parse()?, addr))
        .await?;
    let mut head = format!(
        "POST /v1/batch HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await??;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_prior_knowledge_is_served() -> anyhow::Result<()> {
    let collector = TestCollector::start(test_config()).await?;
    let stream = TcpStream::connect(collector.addr).await?;
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(connection);
    let anon = format!("h2-{}", rand::random::<u32>());
    let body = batch(&anon, "", vec![Kind::Click(Click::default())]).encode_to_vec();
    let request = http::Request::post(format!("http://{}/v1/batch", collector.addr))
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await?.to_bytes();
    assert_eq!(&body[..], br#"{"accepted":1,"rejected":0}"#);
    drop(sender);
    collector.stop().await
}
