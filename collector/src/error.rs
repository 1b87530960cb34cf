//! Request-level refusals and their stable JSON error codes.
//!
//! Every refusal answers `{"error":"<code>","detail":"<text>"}`. Codes are part of the
//! public contract (documented in `collector/README.md`): add new ones, never rename.

use std::time::Duration;

use http::StatusCode;

/// Why a request was refused as a whole (nothing of it reached Kafka).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("request body is empty")]
    EmptyBody,
    #[error("body is not a valid sightline.v1.Batch: {0}")]
    InvalidProtobuf(String),
    #[error("gzip stream is corrupt: {0}")]
    InvalidGzip(String),
    #[error("site key in the batch ({batch:?}) differs from ?site= ({query:?})")]
    SiteKeyMismatch { query: String, batch: String },
    #[error("unknown site key {0:?}")]
    UnknownSite(String),
    #[error("origin {0:?} is not allowed for this site")]
    OriginNotAllowed(String),
    #[error("an Origin header is required")]
    MissingOrigin,
    #[error("no route for {0}")]
    NotFound(String),
    #[error("method {0} not allowed here")]
    MethodNotAllowed(String),
    #[error("body not received within {0:?}")]
    RequestTimeout(Duration),
    #[error("body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("decompressed body exceeds {limit} bytes")]
    DecompressedTooLarge { limit: usize },
    #[error("batch has {count} events, limit {limit}")]
    TooManyEvents { count: usize, limit: usize },
    #[error("content-encoding {0:?} is not supported (use gzip or none)")]
    UnsupportedEncoding(String),
    #[error("content-type {0:?} is not supported")]
    UnsupportedMediaType(String),
    #[error("rate limit {limiter} exceeded")]
    RateLimited {
        limiter: &'static str,
        retry_after: Duration,
    },
    #[error("Kafka did not accept the records: {0}")]
    KafkaUnavailable(String),
    #[error("producer queue is full")]
    QueueFull,
    #[error("durable spool is full (Kafka has been away too long)")]
    SpoolFull,
    #[error("too many requests in flight (server.max_in_flight_requests)")]
    Overloaded,
    #[error("collector is shutting down")]
    ShuttingDown,
    #[error("error reading the request: {0}")]
    BadRequest(String),
}

impl ApiError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::EmptyBody => "empty_body",
            ApiError::InvalidProtobuf(_) => "invalid_protobuf",
            ApiError::InvalidGzip(_) => "invalid_gzip",
            ApiError::SiteKeyMismatch { .. } => "site_key_mismatch",
            ApiError::UnknownSite(_) => "unknown_site",
            ApiError::OriginNotAllowed(_) => "origin_not_allowed",
            ApiError::MissingOrigin => "missing_origin",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::DecompressedTooLarge { .. } => "decompressed_too_large",
            ApiError::TooManyEvents { .. } => "too_many_events",
            ApiError::UnsupportedEncoding(_) => "unsupported_encoding",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::KafkaUnavailable(_) => "kafka_unavailable",
            ApiError::QueueFull => "queue_full",
            ApiError::SpoolFull => "spool_full",
            ApiError::Overloaded => "overloaded",
            ApiError::ShuttingDown => "shutting_down",
            ApiError::BadRequest(_) => "bad_request",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::EmptyBody
            | ApiError::InvalidProtobuf(_)
            | ApiError::InvalidGzip(_)
            | ApiError::SiteKeyMismatch { .. }
            | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnknownSite(_) => StatusCode::UNAUTHORIZED,
            ApiError::OriginNotAllowed(_) | ApiError::MissingOrigin => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::BodyTooLarge { .. }
            | ApiError::DecompressedTooLarge { .. }
            | ApiError::TooManyEvents { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedEncoding(_) | ApiError::UnsupportedMediaType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::KafkaUnavailable(_)
            | ApiError::QueueFull
            | ApiError::SpoolFull
            | ApiError::Overloaded
            | ApiError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// `Retry-After` for refusals a client should retry later; `kafka_retry` is the
    /// configured value for Kafka trouble.
    pub fn retry_after(&self, kafka_retry: Duration) -> Option<Duration> {
        match self {
            // Whole seconds, at least one: Retry-After has no sub-second form.
            ApiError::RateLimited { retry_after, .. } => Some(Duration::from_secs(
                retry_after.as_secs_f64().ceil().max(1.0) as u64,
            )),
            ApiError::KafkaUnavailable(_)
            | ApiError::QueueFull
            | ApiError::SpoolFull
            | ApiError::ShuttingDown => Some(kafka_retry),
            // Momentary overload: come back soon, another instance may have room.
            ApiError::Overloaded => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// JSON body `{"error": code, "detail": text}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.code(), "detail": self.to_string() }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let err = ApiError::RateLimited {
            limiter: "ip",
            retry_after: Duration::from_millis(1200),
        };
        assert_eq!(
            err.retry_after(Duration::ZERO),
            Some(Duration::from_secs(2))
        );
        let err = ApiError::RateLimited {
            limiter: "ip",
            retry_after: Duration::from_millis(1),
        };
        assert_eq!(
            err.retry_after(Duration::ZERO),
            Some(Duration::from_secs(1))
        );
        assert_eq!(ApiError::EmptyBody.retry_after(Duration::ZERO), None);
    }

    #[test]
    fn body_is_json_with_code() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiError::BodyTooLarge { limit: 5 }.body()).unwrap();
        assert_eq!(body["error"], "body_too_large");
        assert_eq!(ApiError::BodyTooLarge { limit: 5 }.status(), 413);
    }
}
