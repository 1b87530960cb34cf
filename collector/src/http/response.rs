//! Small JSON responses.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use crate::error::ApiError;

pub type HttpResponse = Response<Full<Bytes>>;

pub fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub fn json(status: StatusCode, value: serde_json::Value) -> HttpResponse {
    with_body(status, "application/json", value.to_string())
}

pub fn error(err: &ApiError, kafka_retry: Duration) -> HttpResponse {
    with_retry_after(
        with_body(err.status(), "application/json", err.body()),
        err,
        kafka_retry,
    )
}

/// A refusal of the JSON import API (`ApiError::import_body`).
pub fn import_error(err: &ApiError, kafka_retry: Duration) -> HttpResponse {
    with_retry_after(
        with_body(err.status(), "application/json", err.import_body()),
        err,
        kafka_retry,
    )
}

fn with_retry_after(
    mut response: HttpResponse,
    err: &ApiError,
    kafka_retry: Duration,
) -> HttpResponse {
    if let Some(retry) = err.retry_after(kafka_retry) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry.as_secs()));
    }
    response
}
