//! Request-level refusals and their stable JSON error codes.
//!
//! Every refusal answers `{"error":"<code>","detail":"<text>"}`. Codes are part of the
//! public contract (documented in `collector/README.md`): add new ones, never rename.

use std::time::Duration;

use http::StatusCode;

/// Why a request was refused as a whole (nothing of it reached Kafka). Each variant's doc
/// comment is its "When" in collector/README.md (`make docs` writes the table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// body is empty
    #[error("request body is empty")]
    EmptyBody,
    /// not a `Batch`: random bytes, truncated message, invalid UTF-8 in a string field
    #[error("body is not a valid sightline.v1.Batch: {0}")]
    InvalidProtobuf(String),
    /// `Content-Encoding: gzip` but the stream is corrupt
    #[error("gzip stream is corrupt: {0}")]
    InvalidGzip(String),
    /// `?site=` differs from `Batch.site_key`
    #[error("site key in the batch ({batch:?}) differs from ?site= ({query:?})")]
    SiteKeyMismatch { query: String, batch: String },
    /// site key (query or batch) is not configured
    #[error("unknown site key {0:?}")]
    UnknownSite(String),
    /// `Origin` is not on the site's allowlist
    #[error("origin {0:?} is not allowed for this site")]
    OriginNotAllowed(String),
    /// no `Origin` and `server.require_origin = true`
    #[error("an Origin header is required")]
    MissingOrigin,
    /// unknown path
    #[error("no route for {0}")]
    NotFound(String),
    /// known path, wrong method
    #[error("method {0} not allowed here")]
    MethodNotAllowed(String),
    /// body not complete within `server.body_read_timeout_ms`
    #[error("body not received within {0:?}")]
    RequestTimeout(Duration),
    /// body (declared or read) over `limits.max_body_bytes`
    #[error("body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// inflated body over `limits.max_decompressed_bytes` (checked while inflating)
    #[error("decompressed body exceeds {limit} bytes")]
    DecompressedTooLarge { limit: usize },
    /// more than `limits.max_events_per_batch` events
    #[error("batch has {count} events, limit {limit}")]
    TooManyEvents { count: usize, limit: usize },
    /// `Content-Encoding` other than gzip/identity
    #[error("content-encoding {0:?} is not supported (use gzip or none)")]
    UnsupportedEncoding(String),
    /// `Content-Type` other than `application/x-protobuf`, `application/octet-stream` or `text/plain`
    #[error("content-type {0:?} is not supported")]
    UnsupportedMediaType(String),
    /// a limiter refused (`detail` names it: `ip`, `site`, `hot_user`, `ip_concurrency` — the
    /// client address already has `server.max_in_flight_requests_per_ip` batches in
    /// progress); `Retry-After` in whole seconds (≥ 1)
    #[error("rate limit {limiter} exceeded")]
    RateLimited {
        limiter: &'static str,
        retry_after: Duration,
    },
    /// a record was not acknowledged (broker down, `kafka.ack_timeout_ms` passed); `Retry-After` (without the spool; with it: a spool write failed, e.g. disk error)
    #[error("Kafka did not accept the records: {0}")]
    KafkaUnavailable(String),
    /// producer queue full (`kafka.queue_max_*`); `Retry-After: kafka.retry_after_s` (only without the spool: with it, such records are spooled)
    #[error("producer queue is full")]
    QueueFull,
    /// Kafka is away and the spool reached `spool.max_bytes`; `Retry-After: kafka.retry_after_s`
    #[error("durable spool is full (Kafka has been away too long)")]
    SpoolFull,
    /// `server.max_in_flight_requests` batch requests are already being processed (checked
    /// once the body is in), or the body would not fit in `server.max_buffered_body_bytes`;
    /// `Retry-After: 1`
    #[error("too many requests in flight (server.max_in_flight_requests)")]
    Overloaded,
    /// reserved for a collector that is shutting down; not sent today (requests in flight during the drain complete normally)
    #[error("collector is shutting down")]
    ShuttingDown,
    /// the connection failed while reading the body
    #[error("error reading the request: {0}")]
    BadRequest(String),
    /// `POST /v1/unavailable` with a `reason` outside the SDK's fixed set (`no_wasm`, `fetch`, `wasm`)
    #[error("unknown reason {0:?} (expected no_wasm, fetch or wasm)")]
    UnknownReason(String),
    /// JSON import API: no HTTP Basic write key, or not one of `[[sources]]` (checked before the body is read)
    #[error("missing or unknown write key (HTTP Basic user name)")]
    Unauthorized,
    /// JSON import API: the body is not JSON, not an object, or `batch` is not an array of objects
    #[error("body is not a Segment-spec JSON message or batch: {0}")]
    InvalidJson(String),
    /// JSON import API: objects and arrays nested deeper than `import.max_depth` (refused before parsing)
    #[error("JSON nested deeper than {limit} levels")]
    JsonTooDeep { limit: usize },
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
            ApiError::UnknownReason(_) => "unknown_reason",
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::JsonTooDeep { .. } => "json_too_deep",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::EmptyBody
            | ApiError::InvalidProtobuf(_)
            | ApiError::InvalidGzip(_)
            | ApiError::SiteKeyMismatch { .. }
            | ApiError::BadRequest(_)
            | ApiError::UnknownReason(_)
            | ApiError::InvalidJson(_)
            | ApiError::JsonTooDeep { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnknownSite(_) | ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
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

    /// The JSON import API's body: the same plus `code` and `message`, the fields the
    /// Segment and RudderStack libraries read (RudderStack's Python library retries a
    /// 4xx whose body lacks them).
    pub fn import_body(&self) -> String {
        let detail = self.to_string();
        serde_json::json!({
            "error": self.code(), "detail": detail, "code": self.code(), "message": detail,
        })
        .to_string()
    }
}

#[cfg(test)]
impl ApiError {
    /// One value of every variant, for the documentation table and its test (which fails
    /// when a variant of the enum is missing here).
    pub(crate) fn examples() -> Vec<ApiError> {
        let text = String::new;
        vec![
            ApiError::EmptyBody,
            ApiError::InvalidProtobuf(text()),
            ApiError::InvalidGzip(text()),
            ApiError::SiteKeyMismatch {
                query: text(),
                batch: text(),
            },
            ApiError::UnknownSite(text()),
            ApiError::OriginNotAllowed(text()),
            ApiError::MissingOrigin,
            ApiError::NotFound(text()),
            ApiError::MethodNotAllowed(text()),
            ApiError::RequestTimeout(Duration::ZERO),
            ApiError::BodyTooLarge { limit: 0 },
            ApiError::DecompressedTooLarge { limit: 0 },
            ApiError::TooManyEvents { count: 0, limit: 0 },
            ApiError::UnsupportedEncoding(text()),
            ApiError::UnsupportedMediaType(text()),
            ApiError::RateLimited {
                limiter: "",
                retry_after: Duration::ZERO,
            },
            ApiError::KafkaUnavailable(text()),
            ApiError::QueueFull,
            ApiError::SpoolFull,
            ApiError::Overloaded,
            ApiError::ShuttingDown,
            ApiError::BadRequest(text()),
            ApiError::UnknownReason(text()),
            ApiError::Unauthorized,
            ApiError::InvalidJson(text()),
            ApiError::JsonTooDeep { limit: 0 },
        ]
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
