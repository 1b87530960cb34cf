//! The HTTP API in process, without a broker (the consumer keeps retrying one that is not
//! there, so `/readyz` stays 503 and decisions are contextual or static): validation,
//! limits, CORS, errors and metrics.

use std::{net::SocketAddr, sync::Arc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::Value;
use sightline_decide::{DecideService, config::Config, time::SystemTime};

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client
        .request(
            request
                .body(Full::new(Bytes::from(body.to_owned())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn start() -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    // Nobody listens on port 1: the consumer retries in the background.
    config.kafka.brokers = "127.0.0.1:1".into();
    config.kafka.log_decisions = false;
    config.server.allowed_origins =
        vec![sightline_collector::config::OriginPattern::parse("http://localhost:*").unwrap()];
    config.catalogue.path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue.toml");
    let service = DecideService::bind(config, Arc::new(SystemTime))
        .await
        .unwrap();
    let addr = service.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(service.serve(async {
        let _ = rx.await;
    }));
    (addr, tx, serving)
}

const JSON: (&str, &str) = ("content-type", "application/json");
const OK: &str = r#"{"site":"demo","slot":"search-top-banner","placement":"top_banner",
  "page":{"url":"http://localhost:5173/courses/dsa"},"privacy":{"mode":"cookieless"}}"#;

#[tokio::test]
async fn decisions_errors_cors_and_metrics() {
    let (addr, stop, serving) = start().await;
    assert_eq!(send(addr, "GET", "/healthz", &[], "").await.status, 200);
    // No broker: never caught up, never ready.
    assert_eq!(send(addr, "GET", "/readyz", &[], "").await.status, 503);

    let reply = send(addr, "POST", "/v1/decide", &[JSON], OK).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["policy"], "contextual");
    assert_eq!(answer["variant"], "");
    assert_eq!(answer["decision_id"].as_str().unwrap().len(), 32);
    assert_eq!(answer["creatives"][0]["subject"], "Computer Science");
    assert_eq!(reply.headers["cache-control"], "no-store");

    let code = |r: &Reply| -> String {
        serde_json::from_str::<Value>(&r.body).unwrap()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let big = format!(r#"{{"site":"{}"}}"#, "x".repeat(9000));
    let r = send(addr, "POST", "/v1/decide", &[JSON], &big).await;
    assert_eq!((r.status, code(&r).as_str()), (413, "body_too_large"));
    let r = send(addr, "POST", "/v1/decide", &[JSON], "{").await;
    assert_eq!((r.status, code(&r).as_str()), (400, "invalid_json"));
    let r = send(
        addr,
        "POST",
        "/v1/decide",
        &[("content-type", "image/png")],
        OK,
    )
    .await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (415, "unsupported_media_type")
    );
    let r = send(addr, "GET", "/v1/decide", &[], "").await;
    assert_eq!((r.status, code(&r).as_str()), (405, "method_not_allowed"));
    let r = send(addr, "GET", "/nope", &[], "").await;
    assert_eq!((r.status, code(&r).as_str()), (404, "not_found"));

    // CORS: an allowed page gets the header; another origin is refused.
    let page = ("origin", "http://localhost:5173");
    let r = send(addr, "POST", "/v1/decide", &[JSON, page], OK).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let r = send(addr, "OPTIONS", "/v1/decide", &[page], "").await;
    assert_eq!(r.status, 204);
    assert!(r.headers.contains_key("access-control-allow-methods"));
    let evil = ("origin", "https://evil.example");
    let r = send(addr, "POST", "/v1/decide", &[JSON, evil], OK).await;
    assert_eq!((r.status, code(&r).as_str()), (403, "origin_not_allowed"));
    assert!(!r.headers.contains_key("access-control-allow-origin"));

    let metrics = send(addr, "GET", "/metrics", &[], "").await.body;
    assert!(
        metrics.contains(r#"sightline_decide_decisions_total{policy="contextual"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"sightline_decide_refused_total{code="body_too_large"} 1"#));
    assert!(metrics.contains("sightline_decide_decision_duration_seconds_count 2"));
    assert!(metrics.contains("sightline_decide_caught_up 0"));

    // SIGTERM's path: serving ends (connections drained, nothing to flush) and the port
    // no longer accepts.
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(10), serving)
        .await
        .expect("serve ends within 10 s of the shutdown signal")
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
