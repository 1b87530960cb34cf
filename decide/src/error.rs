//! Refusals of the HTTP API and their stable codes.
//!
//! Every refusal answers `{"error":"<code>","message":"<text>"}`. Codes are part of the
//! public contract (decide/README.md): add new ones, never rename.

use http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// The body is not JSON, not an object, or a field has the wrong type.
    #[error("body is not a valid decision request: {0}")]
    InvalidJson(String),
    /// A required field is absent or empty.
    #[error("field {0:?} is required")]
    MissingField(&'static str),
    /// A string is longer than its limit (`limits.max_field_len`, `limits.max_url_len`).
    #[error("field {field:?} is longer than {limit} bytes")]
    FieldTooLong { field: &'static str, limit: usize },
    /// A field holds a value outside its set (e.g. `privacy.mode`).
    #[error("field {field:?}: {detail}")]
    InvalidValue { field: &'static str, detail: String },
    /// `count` is 0 or above `limits.max_count`.
    #[error("count must be within 1..={limit}")]
    InvalidCount { limit: u32 },
    /// The body (declared or read) is over `limits.max_body_bytes`.
    #[error("body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The body did not arrive within `server.body_read_timeout_ms`.
    #[error("body not received in time")]
    RequestTimeout,
    /// The connection failed while the body was read.
    #[error("error reading the request: {0}")]
    BadRequest(String),
    /// `server.max_in_flight_requests` decisions are already in progress.
    #[error("too many decisions in flight")]
    Overloaded,
    /// The `Origin` is not in `server.allowed_origins`.
    #[error("origin {0:?} is not allowed")]
    OriginNotAllowed(String),
    /// `Content-Type` is not JSON (or text/plain, which a browser sends without preflight).
    #[error("content-type {0:?} is not supported (use application/json)")]
    UnsupportedMediaType(String),
    #[error("no route for {0}")]
    NotFound(String),
    #[error("method {0} not allowed here")]
    MethodNotAllowed(String),
}

impl DecideError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::MissingField(_) => "missing_field",
            Self::FieldTooLong { .. } => "field_too_long",
            Self::InvalidValue { .. } => "invalid_value",
            Self::InvalidCount { .. } => "invalid_count",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::BadRequest(_) => "bad_request",
            Self::Overloaded => "overloaded",
            Self::OriginNotAllowed(_) => "origin_not_allowed",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidJson(_)
            | Self::MissingField(_)
            | Self::FieldTooLong { .. }
            | Self::InvalidValue { .. }
            | Self::InvalidCount { .. }
            | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            Self::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The JSON body of the refusal.
    pub fn body(&self) -> String {
        serde_json::json!({"error": self.code(), "message": self.to_string()}).to_string()
    }
}
