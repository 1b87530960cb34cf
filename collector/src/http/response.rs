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
    let mut response = with_body(err.status(), "application/json", err.body());
    if let Some(retry) = err.retry_after(kafka_retry) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry.as_secs()));
    }
    response
}
