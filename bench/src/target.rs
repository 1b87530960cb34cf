//! Where the load goes: an `http://` URL on a loopback address, nothing else.
//!
//! The load generator can send tens of thousands of requests a second; restricting it
//! to loopback makes it impossible to point at someone else's server by mistake.

use std::net::{IpAddr, SocketAddr};

/// A parsed, checked load target.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// Value of the Host header, e.g. `127.0.0.1:8080`.
    pub authority: String,
    /// Path and query, e.g. `/v1/batch`.
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target {0:?} is not an http:// URL (https is not supported: loopback only)")]
    NotHttp(String),
    #[error("target {url:?}: host {host:?} is not an IP address; use 127.0.0.1 or [::1]")]
    NotAnIp { url: String, host: String },
    #[error(
        "target {url:?}: {ip} is not a loopback address; the load generator only targets this machine"
    )]
    NotLoopback { url: String, ip: IpAddr },
    #[error("target {0:?} has no port")]
    NoPort(String),
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| TargetError::NotHttp(url.into()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr: SocketAddr = match authority.parse() {
            Ok(addr) => addr,
            Err(_) => {
                let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                return Err(match host.parse::<IpAddr>() {
                    Ok(_) => TargetError::NoPort(url.into()),
                    Err(_) => TargetError::NotAnIp {
                        url: url.into(),
                        host: host.into(),
                    },
                });
            }
        };
        if !addr.ip().is_loopback() {
            return Err(TargetError::NotLoopback {
                url: url.into(),
                ip: addr.ip(),
            });
        }
        Ok(Self {
            addr,
            authority: authority.into(),
            path: path.into(),
        })
    }
}

/// Checks a listen address given on a command line: loopback only, like [`Target`].
pub fn loopback_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|e| format!("{text:?} is not ADDR:PORT: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address; benchmarks listen on loopback only"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_v4_and_v6() {
        let t = Target::parse("http://127.0.0.1:8080/v1/batch").unwrap();
        assert_eq!(t.addr.port(), 8080);
        assert_eq!(t.path, "/v1/batch");
        assert_eq!(t.authority, "127.0.0.1:8080");
        let t = Target::parse("http://[::1]:9").unwrap();
        assert_eq!(t.path, "/");
    }

    #[test]
    fn refuses_anything_that_is_not_this_machine() {
        assert!(matches!(
            Target::parse("http://10.0.0.1:80/"),
            Err(TargetError::NotLoopback { .. })
        ));
        assert!(matches!(
            Target::parse("http://example.com:80/"),
            Err(TargetError::NotAnIp { .. })
        ));
        assert!(matches!(
            Target::parse("https://127.0.0.1:443/"),
            Err(TargetError::NotHttp(_))
        ));
        assert!(matches!(
            Target::parse("http://127.0.0.1/"),
            Err(TargetError::NoPort(_))
        ));
        assert!(loopback_listen_addr("0.0.0.0:80").is_err());
        assert!(loopback_listen_addr("127.0.0.1:80").is_ok());
    }
}
