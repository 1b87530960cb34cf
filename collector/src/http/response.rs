//! Small JSON responses.

use std::time::Duration;

use http::{HeaderValue, header};
pub use sightline_service::response::{HttpResponse, json, with_body};

use crate::error::ApiError;

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
