//! `tracing` set-up from a service's `[log]` section.

use serde::{Deserialize, Serialize};

/// `log.format`: how log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines (tracing-subscriber's default format).
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the global subscriber. `level` is an env-filter directive (`info`,
/// `sightline_decide=debug`); `RUST_LOG`, when set and valid, wins so an operator can
/// turn up one module without editing the file. A `level` that does not parse falls back
/// to `info` rather than starting without logs.
///
/// Call once per process, before the runtime starts (a second call panics, as
/// `tracing_subscriber`'s `init` does).
pub fn init(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Log {
        format: LogFormat,
    }

    #[test]
    fn formats_are_snake_case() {
        let text: Log = parse("text");
        assert_eq!(text.format, LogFormat::Text);
        let json: Log = parse("json");
        assert_eq!(json.format, LogFormat::Json);
        assert_eq!(LogFormat::default(), LogFormat::Text);
    }

    fn parse(format: &str) -> Log {
        serde_json::from_value(serde_json::json!({ "format": format })).expect("valid format")
    }
}
