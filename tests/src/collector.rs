//! Running a real collector in-process against the real broker, and talking to it.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioIo},
};
use sightline_collector::{
    Collector, RunError,
    config::OriginPattern,
    config::{Config, SiteConfig},
    http::proxy_protocol,
};
use sightline_proto::v1::{Batch, Event, Identity, PageContext, event::Kind};
use tokio::{io::AsyncWriteExt, net::TcpStream, sync::oneshot, task::JoinHandle};

use crate::kafka::bootstrap;

/// Site key of every test collector; its allowed origins are `http://localhost:*`.
pub const SITE: &str = "demo";
pub const ALLOWED_ORIGIN: &str = "http://localhost:3000";

/// A configuration for tests: the test broker, an ephemeral port, fast shutdown and
/// rate limits high enough not to interfere unless a test lowers them.
pub fn test_config() -> Config {
    let mut config = Config::default();
    config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.server.collector_id = "test-collector".into();
    config.kafka.brokers = bootstrap();
    config.kafka.health_check_interval_ms = 500;
    config.kafka.ack_timeout_ms = 15_000;
    config.shutdown.readiness_grace_ms = 0;
    config.shutdown.drain_timeout_ms = 15_000;
    config.shutdown.flush_timeout_ms = 15_000;
    config.rate_limits.per_ip_per_s = 0;
    config.rate_limits.per_site_events_per_s = 0;
    config.rate_limits.hot_user_events_per_s = 0;
    // These tests exercise the Kafka-only path (503 on Kafka trouble); the spool has
    // its own tests (collector unit tests, tests/tests/reliability_*.rs).
    config.spool.enabled = false;
    config.sites = vec![SiteConfig {
        key: SITE.into(),
        allowed_origins: vec![
            OriginPattern::parse("http://localhost:*").expect("static pattern"),
            OriginPattern::parse("http://127.0.0.1:*").expect("static pattern"),
        ],
    }];
    config
}

/// A collector serving on loopback until [`TestCollector::stop`].
pub struct TestCollector {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RunError>>,
}

impl TestCollector {
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let collector = Collector::bind(config).await?;
        let addr = collector.local_addr();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(collector.serve(async {
            let _ = rx.await;
        }));
        Ok(Self {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Sends the shutdown signal (like SIGTERM) without waiting.
    pub fn signal_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Signals shutdown and waits for the collector to finish draining and flushing.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.signal_shutdown();
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .context("collector did not stop within 60 s")???;
        Ok(())
    }
}

/// An HTTP answer, body kept as text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The plain HTTP/1.1 client the tests talk to collectors with.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// HTTP/1.1 client with keep-alive.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// HTTP/1.1 client with keep-alive whose connections come from `local`: on loopback any
/// 127.x.y.z address works, so one machine can play many distinct client addresses.
pub fn client_from(local: IpAddr) -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(local));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// One request on a fresh connection to a collector that requires a PROXY protocol v2
/// header (`server.proxy_protocol = true`), sent as a load balancer would for a client at
/// `source` (`None`: this connection's own address, as for the balancer's health checks).
/// Bounded: 10 s for the whole exchange.
pub async fn request_proxied(
    addr: SocketAddr,
    source: Option<SocketAddr>,
    method: http::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<Reply> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let source = match source {
            Some(source) => source,
            None => stream.local_addr()?,
        };
        stream
            .write_all(&proxy_protocol::encode(source, addr))
            .await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut headers = headers.to_vec();
        let host = addr.to_string();
        headers.push(("host", &host));
        let response = sender
            .send_request(http_request(method, path, &headers, body)?)
            .await?;
        into_reply(response).await
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .context("no answer within 10 s")?
}

pub async fn request(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<Reply> {
    let response = client
        .request(http_request(method, url, headers, body)?)
        .await?;
    into_reply(response).await
}

fn http_request(
    method: http::Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<http::Request<Full<Bytes>>> {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    Ok(builder.body(Full::new(Bytes::from(body)))?)
}

async fn into_reply(response: http::Response<hyper::body::Incoming>) -> anyhow::Result<Reply> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// `POST /v1/batch{query}` with a protobuf content type and the given extra headers.
pub async fn post_batch(
    addr: SocketAddr,
    query: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<Reply> {
    let mut all = headers.to_vec();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        all.push(("content-type", "application/x-protobuf"));
    }
    request(
        &client(),
        http::Method::POST,
        &format!("http://{addr}/v1/batch{query}"),
        &all,
        body,
    )
    .await
}

pub async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<Reply> {
    request(
        &client(),
        http::Method::GET,
        &format!("http://{addr}{path}"),
        &[],
        Vec::new(),
    )
    .await
}

/// Value of one sample in Prometheus text, e.g.
/// `sightline_collector_requests_refused_total{code="empty_body"}`; 0 when absent.
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix(sample)?;
            rest.strip_prefix(' ')?.trim().parse::<f64>().ok()
        })
        .unwrap_or(0.0)
}

pub async fn metrics(addr: SocketAddr) -> anyhow::Result<String> {
    Ok(get(addr, "/metrics").await?.body)
}

/// Current time in ms since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh random 16-byte id.
pub fn new_id() -> Vec<u8> {
    rand::random::<[u8; 16]>().to_vec()
}

/// A batch for `anonymous_id` (and `user_id` when non-empty) with the given payloads,
/// timestamps a few ms before sending.
pub fn batch(anonymous_id: &str, user_id: &str, kinds: Vec<Kind>) -> Batch {
    let sent = now_ms();
    Batch {
        site_key: SITE.into(),
        sdk_version: "0.1.0-test".into(),
        sent_at_ms: sent,
        batch_seq: 1,
        context: Some(PageContext {
            url: "http://localhost:3000/courses".into(),
            viewport_width: 1280,
            viewport_height: 720,
            locale: "en-IN".into(),
            timezone_offset_min: 330,
            ..Default::default()
        }),
        identity: Some(Identity {
            anonymous_id: anonymous_id.into(),
            user_id: user_id.into(),
            session_id: format!("s-{anonymous_id}"),
            page_session_id: format!("p-{anonymous_id}"),
            ..Default::default()
        }),
        events: kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Event {
                event_id: new_id(),
                client_ts_ms: sent - 50 + i as i64,
                seq: i as u64 + 1,
                page_view_id: vec![7; 16],
                kind: Some(kind),
            })
            .collect(),
        ..Default::default()
    }
}

/// `data` gzipped (fast level), as clients send `Content-Encoding: gzip` bodies.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}
