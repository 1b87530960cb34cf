//! Allowed-origin patterns of `[[sites]] allowed_origins`: parsed when the configuration is
//! read (a bad pattern is a configuration error), matched by `http/cors` against each
//! request's `Origin`.
//!
//! An origin is only ever allowed when a pattern matches it exactly by scheme, host and
//! port; there is no "reflect anything" pattern.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An allowed-origin pattern: `scheme://host[:port]`, where the host may start with
/// `*.` (any subdomain, not the bare domain) and the port may be `*` (any port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com` stored as `.example.com`.
    Subdomains(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    /// No port in the pattern: the scheme's default port.
    Default,
    Exact(u16),
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid origin pattern {pattern:?}: {reason}")]
pub struct OriginPatternError {
    pattern: String,
    reason: &'static str,
}

/// The parts of a concrete `Origin` header value.
#[derive(Debug, PartialEq, Eq)]
struct Origin<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<u16>,
}

fn split_origin(value: &str) -> Option<Origin<'_>> {
    let (scheme, rest) = value.split_once("://")?;
    if scheme.is_empty() || rest.is_empty() || rest.contains('/') {
        return None;
    }
    // IPv6 literals keep their brackets as the host.
    let (host, port) = if let Some(end) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
        let host = &rest[..end + 2];
        match &rest[end + 2..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok()?),
    };
    Some(Origin { scheme, host, port })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl OriginPattern {
    pub fn parse(pattern: &str) -> Result<Self, OriginPatternError> {
        let err = |reason| OriginPatternError {
            pattern: pattern.to_owned(),
            reason,
        };
        let lower = pattern.to_ascii_lowercase();
        let (scheme, rest) = lower
            .split_once("://")
            .ok_or_else(|| err("expected scheme://host[:port]"))?;
        let (host, port_text) = match rest.strip_prefix('[').and_then(|r| r.find(']')) {
            // IPv6 literal: the host keeps its brackets, the port follows them.
            Some(close) => {
                let (host, after) = rest.split_at(close + 2);
                match after {
                    "" => (host, None),
                    p => (
                        host,
                        Some(p.strip_prefix(':').ok_or_else(|| err("junk after ]"))?),
                    ),
                }
            }
            None => match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            },
        };
        let port = match port_text {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(
                p.parse::<u16>()
                    .map_err(|_| err("port must be a number or *"))?,
            ),
        };
        if scheme.is_empty() || host.is_empty() || host.contains('/') {
            return Err(err("expected scheme://host[:port] without a path"));
        }
        let host = match host.strip_prefix("*.") {
            Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                HostPattern::Subdomains(format!(".{domain}"))
            }
            Some(_) => return Err(err("wildcard host must look like *.example.com")),
            None if host.contains('*') => return Err(err("* is only allowed as *.domain")),
            None => HostPattern::Exact(host.to_owned()),
        };
        Ok(Self {
            scheme: scheme.to_owned(),
            host,
            port,
        })
    }

    /// Whether a concrete `Origin` header value is allowed by this pattern.
    pub fn matches(&self, origin: &str) -> bool {
        let lower = origin.to_ascii_lowercase();
        let Some(origin) = split_origin(&lower) else {
            return false;
        };
        if origin.scheme != self.scheme {
            return false;
        }
        let host_ok = match &self.host {
            HostPattern::Exact(h) => origin.host == h,
            HostPattern::Subdomains(suffix) => {
                origin.host.len() > suffix.len() && origin.host.ends_with(suffix.as_str())
            }
        };
        let effective_port = origin.port.or_else(|| default_port(origin.scheme));
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => effective_port == Some(p),
            PortPattern::Default => effective_port == default_port(&self.scheme),
        };
        host_ok && port_ok
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            HostPattern::Exact(h) => write!(f, "{h}")?,
            HostPattern::Subdomains(s) => write!(f, "*{s}")?,
        }
        match self.port {
            PortPattern::Default => Ok(()),
            PortPattern::Exact(p) => write!(f, ":{p}"),
            PortPattern::Any => write!(f, ":*"),
        }
    }
}

impl<'de> Deserialize<'de> for OriginPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        OriginPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for OriginPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OriginPattern {
        OriginPattern::parse(s).unwrap()
    }

    #[test]
    fn any_port_pattern_matches_only_that_host_and_scheme() {
        let pat = p("http://localhost:*");
        assert!(pat.matches("http://localhost:5173"));
        assert!(pat.matches("http://localhost"));
        assert!(!pat.matches("https://localhost:5173"));
        assert!(!pat.matches("http://localhost.evil.com:80"));
        assert!(!pat.matches("http://evil.com"));
        assert!(!pat.matches("null"));
    }

    #[test]
    fn exact_and_default_ports() {
        assert!(p("https://example.com").matches("https://example.com"));
        assert!(p("https://example.com").matches("https://example.com:443"));
        assert!(!p("https://example.com").matches("https://example.com:8443"));
        assert!(p("http://127.0.0.1:8080").matches("http://127.0.0.1:8080"));
        assert!(!p("http://127.0.0.1:8080").matches("http://127.0.0.1:8081"));
    }

    #[test]
    fn subdomain_wildcard_excludes_bare_domain_and_lookalikes() {
        let pat = p("https://*.example.com");
        assert!(pat.matches("https://www.example.com"));
        assert!(pat.matches("https://a.b.example.com"));
        assert!(!pat.matches("https://example.com"));
        assert!(!pat.matches("https://evilexample.com"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "localhost",
            "http://*",
            "http://a*b.com",
            "http://x.com:port",
            "http://x.com/path",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_origins() {
        assert!(p("http://[::1]:*").matches("http://[::1]:3000"));
        assert!(!p("http://[::1]:*").matches("http://[::2]:3000"));
    }
}
