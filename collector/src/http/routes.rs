//! Request dispatch: `/v1/batch` (POST, OPTIONS), `/v1/unavailable` (POST, the SDK's fallback
//! beacon), `/healthz`, `/readyz`, `/metrics`, and the JSON import API
//! (`import::IMPORT_PATHS`, and `/v1/batch` with a write key or a JSON body: the libraries
//! post there). The import paths answer no CORS: servers send there.

use std::{
    convert::Infallible,
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use hyper::body::Body;
use serde_json::json;

use super::{
    client_ip::client_ip,
    cors,
    response::{self, HttpResponse},
    unavailable,
};
use crate::{
    error::ApiError,
    import::{self, Shape},
    ingest,
    limiters::LIMITER_IP_CONCURRENCY,
    payload,
    sinks::SinkHealth,
    state::AppState,
};

pub const ROUTE_BATCH: &str = "/v1/batch";
pub const ROUTE_UNAVAILABLE: &str = "/v1/unavailable";
pub const ROUTE_HEALTHZ: &str = "/healthz";
pub const ROUTE_READYZ: &str = "/readyz";
pub const ROUTE_METRICS: &str = "/metrics";

pub async fn handle<B>(
    state: Arc<AppState>,
    peer: IpAddr,
    request: Request<B>,
) -> Result<HttpResponse, Infallible>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display + Send,
{
    let path = request.uri().path().to_owned();
    let import_path = import::shape_of(&path).is_some();
    let route = match path.as_str() {
        ROUTE_BATCH | ROUTE_UNAVAILABLE | ROUTE_HEALTHZ | ROUTE_READYZ | ROUTE_METRICS => {
            path.as_str()
        }
        _ if import_path => path.as_str(),
        _ => "other",
    };
    let method = request.method().clone();
    let import_shape = match path.as_str() {
        ROUTE_BATCH if is_json_import(request.headers()) => Some(Shape::Batch),
        other => import::shape_of(other),
    };
    let response = match (method, path.as_str()) {
        (Method::POST, _) if import_shape.is_some() => {
            let shape = import_shape.unwrap_or(Shape::Batch);
            import_request(&state, peer, request, shape).await
        }
        (method, _) if import_path => response::import_error(
            &ApiError::MethodNotAllowed(method.to_string()),
            state.kafka_retry_after(),
        ),
        (Method::POST, ROUTE_BATCH) => batch(&state, peer, request).await,
        (Method::OPTIONS, ROUTE_BATCH) => preflight(&state, &request),
        (Method::POST, ROUTE_UNAVAILABLE) => {
            match unavailable::report(&state, request.uri().query()) {
                Ok(status) => response::with_body(status, "text/plain", Bytes::new()),
                Err(err) => {
                    state.metrics.count_refused(err.code());
                    response::error(&err, state.kafka_retry_after())
                }
            }
        }
        (Method::GET, ROUTE_HEALTHZ) => response::json(StatusCode::OK, json!({"status": "ok"})),
        (Method::GET, ROUTE_READYZ) => readyz(&state),
        (Method::GET, ROUTE_METRICS) => {
            publish_health(&state, &state.sink.health());
            let budget = state.config.server.max_buffered_body_bytes;
            let free = state.body_budget.available_permits();
            state
                .metrics
                .buffered_body_bytes
                .set(i64::try_from(budget.saturating_sub(free)).unwrap_or(i64::MAX));
            response::with_body(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                state.metrics.render(),
            )
        }
        (
            method,
            ROUTE_BATCH | ROUTE_UNAVAILABLE | ROUTE_HEALTHZ | ROUTE_READYZ | ROUTE_METRICS,
        ) => response::error(
            &ApiError::MethodNotAllowed(method.to_string()),
            state.kafka_retry_after(),
        ),
        (_, other) => response::error(
            &ApiError::NotFound(other.chars().take(128).collect()),
            state.kafka_retry_after(),
        ),
    };
    state
        .metrics
        .count_request(route, response.status().as_u16());
    Ok(response)
}

/// A `POST /v1/batch` from a server library, not the browser SDK: it carries a write key
/// (`Authorization`, which the SDK never sends) or declares JSON.
fn is_json_import(headers: &http::HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

async fn import_request<B>(
    state: &AppState,
    peer: IpAddr,
    request: Request<B>,
    shape: Shape,
) -> HttpResponse
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display + Send,
{
    let started = Instant::now();
    let (parts, mut body) = request.into_parts();
    let client = client_ip(peer, &parts.headers, &state.config.server.trusted_proxies);
    let result = match state.in_flight_per_ip.try_acquire(client) {
        Some(_slot) => {
            import::ingest::handle_import(state, client, shape, &parts.headers, &mut body).await
        }
        None => Err(ApiError::RateLimited {
            limiter: LIMITER_IP_CONCURRENCY,
            retry_after: Duration::from_secs(1),
        }),
    };
    if result.is_err() {
        discard_rest(state, body);
    }
    let response = match &result {
        // `success` is what Segment's API answers; the counts are Sightline's.
        Ok(summary) => response::json(
            StatusCode::OK,
            json!({"success": true, "accepted": summary.accepted, "rejected": summary.rejected}),
        ),
        Err(err) => {
            state.metrics.count_refused(err.code());
            if let ApiError::RateLimited { limiter, .. } = err {
                state.metrics.count_rate_limited(limiter);
            }
            tracing::debug!(code = err.code(), %err, "import refused");
            response::import_error(err, state.kafka_retry_after())
        }
    };
    state
        .metrics
        .observe_batch_duration(result.is_ok(), started.elapsed().as_secs_f64());
    response
}

/// A refused request's unread body is read and thrown away after the answer
/// (`server.max_discarded_body_bytes`; see `payload::body::discard_in_background`).
fn discard_rest<B>(state: &AppState, body: B)
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Send,
{
    payload::body::discard_in_background(
        body,
        state.config.server.max_discarded_body_bytes,
        state.config.body_read_timeout(),
    );
}

/// The sink's health as gauges, refreshed whenever someone looks (scrape, `/readyz`).
fn publish_health(state: &AppState, health: &SinkHealth) {
    let depth = i64::try_from(health.queue_depth).unwrap_or(i64::MAX);
    state.metrics.queue_depth.set(depth);
    state
        .metrics
        .kafka_reachable
        .set(i64::from(health.reachable));
}

fn origin_of<B>(request: &Request<B>) -> Option<String> {
    request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn batch<B>(state: &AppState, peer: IpAddr, request: Request<B>) -> HttpResponse
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display + Send,
{
    let started = Instant::now();
    let origin = origin_of(&request);
    let (parts, mut body) = request.into_parts();
    let client = client_ip(peer, &parts.headers, &state.config.server.trusted_proxies);
    // One address may have only so many batches in progress (body reading included),
    // whatever the rate it stays under: slow bodies from one client cannot take every
    // slot. The slot is held until the answer.
    let outcome = match state.in_flight_per_ip.try_acquire(client) {
        Some(_slot) => {
            ingest::handle_batch(state, client, parts.uri.query(), &parts.headers, &mut body).await
        }
        None => ingest::Outcome {
            site: ingest::site_from_query(parts.uri.query()).map(str::to_owned),
            result: Err(ApiError::RateLimited {
                limiter: LIMITER_IP_CONCURRENCY,
                retry_after: Duration::from_secs(1),
            }),
        },
    };
    if outcome.result.is_err() {
        discard_rest(state, body);
    }
    let mut response = match &outcome.result {
        Ok(summary) => response::json(
            StatusCode::OK,
            json!({"accepted": summary.accepted, "rejected": summary.rejected}),
        ),
        Err(err) => {
            state.metrics.count_refused(err.code());
            if let ApiError::RateLimited { limiter, .. } = err {
                state.metrics.count_rate_limited(limiter);
            }
            tracing::debug!(code = err.code(), %err, "batch refused");
            response::error(err, state.kafka_retry_after())
        }
    };
    // Let the page read the answer only when its origin is on the allowlist.
    if let Some(origin) = origin {
        if state.origin_allowed(
            outcome
                .site
                .as_deref()
                .filter(|s| state.sites.contains_key(*s)),
            &origin,
        ) {
            for (name, value) in cors::response_headers(&origin) {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
        }
    }
    state
        .metrics
        .observe_batch_duration(outcome.result.is_ok(), started.elapsed().as_secs_f64());
    response
}

fn preflight<B>(state: &AppState, request: &Request<B>) -> HttpResponse {
    let site = ingest::site_from_query(request.uri().query());
    let allowed = origin_of(request).filter(|origin| state.origin_allowed(site, origin));
    let Some(origin) = allowed else {
        let origin = origin_of(request).unwrap_or_default();
        return response::error(
            &ApiError::OriginNotAllowed(origin),
            state.kafka_retry_after(),
        );
    };
    let mut response = response::with_body(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
    for (name, value) in cors::preflight_headers(&origin, state.config.server.cors_max_age_s) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn readyz(state: &AppState) -> HttpResponse {
    let health = state.sink.health();
    publish_health(state, &health);
    // With a spool, Kafka trouble alone keeps the collector ready: it still makes
    // every accepted record durable, and taking every collector out of the load
    // balancer during a broker outage would push the data back to the browsers.
    let reason = if state.is_draining() {
        Some("draining")
    } else if let Some(spool) = health.spool {
        (spool.bytes > spool.ready_max_bytes).then_some("spool_above_high_water")
    } else if !health.reachable {
        Some("kafka_unreachable")
    } else if health.queue_depth > health.high_water {
        Some("queue_above_high_water")
    } else {
        None
    };
    let mut body = json!({
        "status": if reason.is_some() { "not_ready" } else { "ready" },
        "queue_depth": health.queue_depth,
        "kafka_reachable": health.reachable,
    });
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    if let Some(spool) = health.spool {
        body["spool_bytes"] = json!(spool.bytes);
        body["spool_records"] = json!(spool.records);
        body["spool_max_bytes"] = json!(spool.max_bytes);
    }
    let status = if reason.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    response::json(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        config::{Config, SpoolConfig},
        sinks::{memory::MemorySink, spool::SpoolSink},
    };
    use http_body_util::{BodyExt, Full};

    fn config() -> Config {
        Config::from_toml_with_env("[[sites]]\nkey = \"demo\"\n", []).unwrap()
    }

    async fn body_json(response: HttpResponse) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn with_a_spool_kafka_trouble_keeps_readyz_ready_until_the_spool_fills() {
        let dir = tempfile::tempdir().unwrap();
        let kafka = MemorySink::new();
        kafka.set_failing(true);
        let spool_config = SpoolConfig {
            dir: dir.path().to_owned(),
            max_bytes: 8192,
            segment_bytes: 4096,
            ready_max_pct: 50,
            ..SpoolConfig::default()
        };
        let spool = SpoolSink::open(&spool_config, Arc::new(kafka)).unwrap();
        let state = AppState::new(config(), Arc::new(spool)).unwrap();
        let ready = readyz(&state);
        assert_eq!(ready.status(), StatusCode::OK);
        let json = body_json(ready).await;
        assert_eq!(json["kafka_reachable"], false);
        assert_eq!(json["spool_bytes"], 0);

        let record = crate::sinks::Record {
            topic: "t".into(),
            key: None,
            payload: vec![0; 1000],
            headers: crate::sinks::RecordHeaders {
                schema: "s".into(),
                kind: "click".into(),
                site: "demo".into(),
                layout: None,
            },
        };
        for _ in 0..6 {
            state
                .sink
                .deliver(std::slice::from_ref(&record))
                .await
                .unwrap();
        }
        let not_ready = readyz(&state);
        assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body_json(not_ready).await["reason"],
            "spool_above_high_water"
        );
        let text = state.metrics.render();
        assert!(
            text.contains("sightline_collector_spool_records 6"),
            "{text}"
        );
        assert!(text.contains("sightline_collector_spool_corrupt_records_total 0"));
    }

    #[tokio::test]
    async fn unavailable_reports_are_counted_by_known_site_and_reason_only() {
        let state = Arc::new(AppState::new(config(), Arc::new(MemorySink::new())).unwrap());
        let post = |query: &str| {
            Request::post(format!("{ROUTE_UNAVAILABLE}?{query}"))
                .body(Full::new(Bytes::new()))
                .unwrap()
        };
        let peer: IpAddr = "192.0.2.1".parse().unwrap();
        for query in [
            "site=demo&reason=wasm",
            "reason=wasm&site=demo",
            "site=demo&reason=no_wasm",
        ] {
            let response = handle(state.clone(), peer, post(query)).await.unwrap();
            assert_eq!(response.status(), StatusCode::NO_CONTENT, "{query}");
        }
        // Unbounded label values are refused, not counted.
        let response = handle(state.clone(), peer, post("site=evil&reason=wasm"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body_json(response).await["error"], "unknown_site");
        let response = handle(state.clone(), peer, post("site=demo&reason=x%20y"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body_json(response).await["error"], "unknown_reason");
        let get = Request::get(format!("{ROUTE_UNAVAILABLE}?site=demo&reason=wasm"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = handle(state.clone(), peer, get).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

        let text = state.metrics.render();
        assert!(
            text.contains(
                "sightline_collector_sdk_unavailable_total{site=\"demo\",reason=\"wasm\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains(
            "sightline_collector_sdk_unavailable_total{site=\"demo\",reason=\"no_wasm\"} 1"
        ));
        assert!(!text.contains("evil"), "{text}");
        assert!(!text.contains("reason=\"fetch\""), "{text}");
        assert!(text.contains(
            "sightline_collector_http_requests_total{route=\"/v1/unavailable\",status=\"204\"} 3"
        ));
        // Nothing reached the sink.
        assert_eq!(state.sink.health().queue_depth, 0);
    }

    #[tokio::test]
    async fn beyond_max_in_flight_requests_is_503_overloaded_once_the_body_is_in() {
        let state = Arc::new(AppState::new(config(), Arc::new(MemorySink::new())).unwrap());
        let held = state
            .in_flight
            .clone()
            .try_acquire_many_owned(state.config.server.max_in_flight_requests as u32)
            .unwrap();
        let request = Request::post(ROUTE_BATCH)
            .body(Full::new(Bytes::from_static(b"ignored")))
            .unwrap();
        let response = handle(state.clone(), "192.0.2.1".parse().unwrap(), request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            HeaderValue::from_static("1")
        );
        assert_eq!(body_json(response).await["error"], "overloaded");
        drop(held);
    }

    #[tokio::test]
    async fn one_address_over_its_in_flight_cap_gets_429_counted_by_its_real_address() {
        let config = Config::from_toml_with_env(
            "[server]\nmax_in_flight_requests_per_ip = 2\ntrusted_proxies = [\"10.0.0.0/8\"]\n\
             [[sites]]\nkey = \"demo\"\n",
            [],
        )
        .unwrap();
        let state = Arc::new(AppState::new(config, Arc::new(MemorySink::new())).unwrap());
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let held: Vec<_> = (0..2)
            .map(|_| state.in_flight_per_ip.try_acquire(attacker).unwrap())
            .collect();
        let post = |xff: Option<&'static str>| {
            let mut request = Request::post(ROUTE_BATCH);
            if let Some(xff) = xff {
                request = request.header("x-forwarded-for", xff);
            }
            request.body(Full::new(Bytes::new())).unwrap()
        };
        // Directly, and through a trusted balancer that names it.
        for (peer, xff) in [("192.0.2.1", None), ("10.0.0.1", Some("192.0.2.1"))] {
            let response = handle(state.clone(), peer.parse().unwrap(), post(xff))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(
                response.headers().get(header::RETRY_AFTER).unwrap(),
                HeaderValue::from_static("1")
            );
            let json = body_json(response).await;
            assert_eq!(json["error"], "rate_limited");
            assert!(json["detail"].as_str().unwrap().contains("ip_concurrency"));
        }
        // Another client behind the same balancer is not affected (400: empty body).
        let response = handle(
            state.clone(),
            "10.0.0.1".parse().unwrap(),
            post(Some("198.51.100.9")),
        )
        .await
        .unwrap();
        assert_eq!(body_json(response).await["error"], "empty_body");
        assert!(
            state
                .metrics
                .render()
                .contains("sightline_collector_rate_limited_total{limiter=\"ip_concurrency\"} 2")
        );
        drop(held);
        assert_eq!(state.in_flight_per_ip.addresses(), 0);
    }
}
