//! Per-site origin allowlists and the CORS headers derived from them.
//!
//! An origin is only ever echoed back when a configured pattern (`config::OriginPattern`)
//! matches it exactly by scheme, host and port; there is no "reflect anything" mode.

// Re-exported: the pattern type is the configuration's (config::OriginPattern).
pub use crate::config::OriginPattern;

/// Whether `origin` is allowed by any of `patterns`.
pub fn origin_allowed(patterns: &[OriginPattern], origin: &str) -> bool {
    patterns.iter().any(|p| p.matches(origin))
}

/// Headers for an allowed origin on an actual (non-preflight) response. `Retry-After` is
/// exposed because the SDK's backoff honours it, and a cross-origin script cannot read a
/// response header that is not listed.
pub fn response_headers(origin: &str) -> [(http::HeaderName, String); 3] {
    [
        (http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.to_owned()),
        (http::header::VARY, "Origin".to_owned()),
        (
            http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "Retry-After".to_owned(),
        ),
    ]
}

/// Headers answering a preflight for an allowed origin.
pub fn preflight_headers(origin: &str, max_age_s: u64) -> Vec<(http::HeaderName, String)> {
    vec![
        (http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.to_owned()),
        (http::header::VARY, "Origin".to_owned()),
        (
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            "POST, OPTIONS".to_owned(),
        ),
        (
            http::header::ACCESS_CONTROL_ALLOW_HEADERS,
            "content-type, content-encoding".to_owned(),
        ),
        (http::header::ACCESS_CONTROL_MAX_AGE, max_age_s.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_expose_retry_after_to_the_sdk() {
        let headers = response_headers("http://localhost:3000");
        assert!(headers.iter().any(|(name, value)| {
            name == http::header::ACCESS_CONTROL_EXPOSE_HEADERS && value == "Retry-After"
        }));
    }
}
