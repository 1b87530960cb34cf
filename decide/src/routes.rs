//! Request dispatch: `POST /v1/decide` (and its CORS preflight), `/healthz`, `/readyz`,
//! `/metrics`.

use std::{convert::Infallible, sync::Arc, time::Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use serde_json::json;

use crate::{error::DecideError, request::DecideRequest, response, state::AppState};

pub use crate::response::HttpResponse;

pub const ROUTE_DECIDE: &str = "/v1/decide";
pub const ROUTE_HEALTHZ: &str = "/healthz";
pub const ROUTE_READYZ: &str = "/readyz";
pub const ROUTE_METRICS: &str = "/metrics";

pub async fn handle<B>(
    state: Arc<AppState>,
    request: Request<B>,
) -> Result<HttpResponse, Infallible>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display + Send + Sync + std::error::Error + 'static,
{
    let path = request.uri().path();
    let route = match path {
        ROUTE_DECIDE => ROUTE_DECIDE,
        ROUTE_HEALTHZ => ROUTE_HEALTHZ,
        ROUTE_READYZ => ROUTE_READYZ,
        ROUTE_METRICS => ROUTE_METRICS,
        _ => "other",
    };
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = match (request.method().clone(), route) {
        (Method::POST, ROUTE_DECIDE) => match check_origin(&state, origin.as_deref()) {
            Ok(()) => decide(&state, request).await,
            Err(err) => refuse(&state, &err),
        },
        (Method::OPTIONS, ROUTE_DECIDE) => preflight(&state, origin.as_deref()),
        (Method::GET, ROUTE_HEALTHZ) => response::json(StatusCode::OK, json!({"status": "ok"})),
        (Method::GET, ROUTE_READYZ) => {
            if state.is_ready() {
                response::json(StatusCode::OK, json!({"status": "ready"}))
            } else {
                response::json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"status": "not_ready"}),
                )
            }
        }
        (Method::GET, ROUTE_METRICS) => {
            let profiles = &state.decider.profiles;
            response::with_body(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                state.metrics.render(profiles.len(), profiles.evictions()),
            )
        }
        (_, "other") => refuse(
            &state,
            &DecideError::NotFound(path_prefix(request.uri().path())),
        ),
        (method, _) => refuse(&state, &DecideError::MethodNotAllowed(method.to_string())),
    };
    let mut response = response;
    if route == ROUTE_DECIDE {
        if let Some(origin) = origin.filter(|o| origin_allowed(&state, o)) {
            add_cors(&mut response, &origin);
        }
    }
    state
        .metrics
        .requests
        .get_or_create(&crate::metrics::RouteStatus {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    Ok(response)
}

fn path_prefix(path: &str) -> String {
    path.chars().take(128).collect()
}

fn refuse(state: &AppState, err: &DecideError) -> HttpResponse {
    state
        .metrics
        .refused
        .get_or_create(&crate::metrics::CodeLabel { code: err.code() })
        .inc();
    response::error(err)
}

fn origin_allowed(state: &AppState, origin: &str) -> bool {
    state
        .config
        .server
        .allowed_origins
        .iter()
        .any(|p| p.matches(origin))
}

/// Server-side callers send no `Origin`; a browser page must be on the allowlist.
fn check_origin(state: &AppState, origin: Option<&str>) -> Result<(), DecideError> {
    match origin {
        Some(o) if !origin_allowed(state, o) => {
            Err(DecideError::OriginNotAllowed(o.chars().take(128).collect()))
        }
        _ => Ok(()),
    }
}

fn add_cors(response: &mut HttpResponse, origin: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

fn preflight(state: &AppState, origin: Option<&str>) -> HttpResponse {
    match check_origin(state, origin) {
        Err(err) => refuse(state, &err),
        Ok(()) => {
            let mut response = response::with_body(StatusCode::NO_CONTENT, "text/plain", "");
            let headers = response.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(state.config.server.cors_max_age_s),
            );
            response
        }
    }
}

fn check_content_type(headers: &http::HeaderMap) -> Result<(), DecideError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // text/plain: what a page's fetch sends to skip the CORS preflight round trip.
    match media.as_str() {
        "application/json" | "text/plain" => Ok(()),
        other => Err(DecideError::UnsupportedMediaType(
            other.chars().take(64).collect(),
        )),
    }
}

async fn read_body<B>(state: &AppState, request: Request<B>) -> Result<Bytes, DecideError>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display + Send + Sync + std::error::Error + 'static,
{
    let limit = state.config.limits.max_body_bytes;
    check_content_type(request.headers())?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(DecideError::BodyTooLarge { limit });
    }
    let timeout = std::time::Duration::from_millis(state.config.server.body_read_timeout_ms);
    let body = Limited::new(request.into_body(), limit);
    match tokio::time::timeout(timeout, body.collect()).await {
        Err(_) => Err(DecideError::RequestTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) => {
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(DecideError::BodyTooLarge { limit })
            } else {
                Err(DecideError::BadRequest(err.to_string()))
            }
        }
    }
}

async fn decide<B>(state: &AppState, request: Request<B>) -> HttpResponse
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display + Send + Sync + std::error::Error + 'static,
{
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return refuse(state, &DecideError::Overloaded);
    };
    let body = match read_body(state, request).await {
        Ok(body) => body,
        Err(err) => return refuse(state, &err),
    };
    let started = Instant::now();
    let parsed = match DecideRequest::parse(&body, &state.config.limits) {
        Ok(parsed) => parsed,
        Err(err) => return refuse(state, &err),
    };
    let decision = state.decider.decide(&parsed, &mut rand::rng());
    if let Some(log) = &state.log {
        log.send(&parsed, &decision);
    }
    let response = response::decision(&decision);
    state
        .metrics
        .decisions
        .get_or_create(&crate::metrics::PolicyLabel {
            policy: decision.policy.as_str(),
        })
        .inc();
    state
        .metrics
        .decision_seconds
        .observe(started.elapsed().as_secs_f64());
    response
}
