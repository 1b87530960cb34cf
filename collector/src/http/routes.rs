//! Request dispatch: `/v1/batch` (POST, OPTIONS), `/healthz`, `/readyz`, `/metrics`.

use std::{convert::Infallible, net::IpAddr, sync::Arc};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use hyper::body::Body;
use serde_json::json;

use super::{
    cors,
    response::{self, HttpResponse},
};
use crate::{error::ApiError, ingest, state::AppState};

pub const ROUTE_BATCH: &str = "/v1/batch";
pub const ROUTE_HEALTHZ: &str = "/healthz";
pub const ROUTE_READYZ: &str = "/readyz";
pub const ROUTE_METRICS: &str = "/metrics";

pub async fn handle<B>(
    state: Arc<AppState>,
    peer: IpAddr,
    request: Request<B>,
) -> Result<HttpResponse, Infallible>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let path = request.uri().path().to_owned();
    let route = match path.as_str() {
        ROUTE_BATCH | ROUTE_HEALTHZ | ROUTE_READYZ | ROUTE_METRICS => path.as_str(),
        _ => "other",
    };
    let method = request.method().clone();
    let response = match (method, path.as_str()) {
        (Method::POST, ROUTE_BATCH) => batch(&state, peer, request).await,
        (Method::OPTIONS, ROUTE_BATCH) => preflight(&state, &request),
        (Method::GET, ROUTE_HEALTHZ) => response::json(StatusCode::OK, json!({"status": "ok"})),
        (Method::GET, ROUTE_READYZ) => readyz(&state),
        (Method::GET, ROUTE_METRICS) => {
            state
                .metrics
                .queue_depth
                .set(gauge_value(state.sink.health().queue_depth));
            response::with_body(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                state.metrics.render(),
            )
        }
        (method, ROUTE_BATCH | ROUTE_HEALTHZ | ROUTE_READYZ | ROUTE_METRICS) => response::error(
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

fn gauge_value(depth: u64) -> i64 {
    i64::try_from(depth).unwrap_or(i64::MAX)
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
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let origin = origin_of(&request);
    let (parts, body) = request.into_parts();
    let outcome = ingest::handle_batch(state, peer, parts.uri.query(), &parts.headers, body).await;
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
    state
        .metrics
        .queue_depth
        .set(gauge_value(health.queue_depth));
    let reason = if state.is_draining() {
        Some("draining")
    } else if !health.reachable {
        Some("kafka_unreachable")
    } else if health.queue_depth > health.high_water {
        Some("queue_above_high_water")
    } else {
        None
    };
    match reason {
        None => response::json(
            StatusCode::OK,
            json!({"status": "ready", "queue_depth": health.queue_depth}),
        ),
        Some(reason) => response::json(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not_ready", "reason": reason, "queue_depth": health.queue_depth}),
        ),
    }
}
