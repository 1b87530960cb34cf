//! The cookieless visitor id: a keyed hash of (site, full client address, user agent)
//! under a key that changes every UTC day (the Plausible approach, docs/privacy.md).
//!
//! The daily key is HMAC-SHA256(deployment secret, "sightline-visitor-day:" ‖ day number):
//! every collector of a deployment that shares `privacy.visitor_id_secret` derives the
//! same key, so the id does not depend on which collector the balancer picked; the key
//! lives in memory only (never logged, never written), and yesterday's cannot be derived
//! from today's. The id is the first 16 bytes of HMAC-SHA256(daily key, site ‖ 0 ‖ address
//! ‖ 0 ‖ user agent), as 32 hex digits. The address is used in full here, before
//! truncation, and is never stored.

use std::{net::IpAddr, sync::Mutex};

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;
const DAY_MS: i64 = 86_400_000;

/// HMAC-SHA256 (RFC 2104); `sha2` is already a dependency and HMAC is a few lines, so no
/// new crate (checked against RFC 4231's vectors in the tests).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The UTC day number of a time (days since the Unix epoch).
pub fn utc_day(now_ms: i64) -> i64 {
    now_ms.div_euclid(DAY_MS)
}

/// Derives visitor ids; holds the secret and the current day's key.
pub struct VisitorIds {
    secret: Vec<u8>,
    /// (day, that day's key): recomputed when the day changes.
    daily: Mutex<Option<(i64, [u8; 32])>>,
}

impl std::fmt::Debug for VisitorIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorIds { secret: <redacted> }")
    }
}

impl VisitorIds {
    pub fn new(secret: Vec<u8>) -> Self {
        Self {
            secret,
            daily: Mutex::new(None),
        }
    }

    fn daily_key(&self, day: i64) -> [u8; 32] {
        let mut cached = self
            .daily
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *cached {
            Some((d, key)) if d == day => key,
            _ => {
                let key = hmac_sha256(
                    &self.secret,
                    &[b"sightline-visitor-day:", &day.to_be_bytes()],
                );
                *cached = Some((day, key));
                key
            }
        }
    }

    /// The visitor id of (site, address, agent) on the UTC day of `now_ms`.
    pub fn visitor_id(&self, site: &str, client: IpAddr, user_agent: &str, now_ms: i64) -> String {
        let key = self.daily_key(utc_day(now_ms));
        let address = match client {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        let mac = hmac_sha256(
            &key,
            &[site.as_bytes(), &[0], &address, &[0], user_agent.as_bytes()],
        );
        let mut hex = String::with_capacity(32);
        for b in &mac[..16] {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 1 and 2, and 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], &[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn ids_are_stable_within_a_day_and_differ_across_days_sites_and_secrets() {
        let ids = VisitorIds::new(b"deployment secret".to_vec());
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let day = 20_000 * DAY_MS;
        let morning = ids.visitor_id("demo", ip, "UA", day + 1);
        assert_eq!(morning.len(), 32);
        assert_eq!(ids.visitor_id("demo", ip, "UA", day + DAY_MS - 1), morning);
        assert_ne!(ids.visitor_id("demo", ip, "UA", day + DAY_MS), morning);
        assert_ne!(ids.visitor_id("other", ip, "UA", day + 1), morning);
        assert_ne!(ids.visitor_id("demo", ip, "UA2", day + 1), morning);
        // The full address counts: the same /24 is not the same visitor.
        let neighbour: IpAddr = "203.0.113.8".parse().unwrap();
        assert_ne!(ids.visitor_id("demo", neighbour, "UA", day + 1), morning);
        // Another collector with the same secret: the same id; another secret: not.
        let twin = VisitorIds::new(b"deployment secret".to_vec());
        assert_eq!(twin.visitor_id("demo", ip, "UA", day + 5), morning);
        let stranger = VisitorIds::new(b"other secret".to_vec());
        assert_ne!(stranger.visitor_id("demo", ip, "UA", day + 5), morning);
        // Going back to a previous day (a late request after midnight) recomputes it.
        assert_eq!(ids.visitor_id("demo", ip, "UA", day + 2), morning);
    }

    #[test]
    fn days_are_utc() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(DAY_MS - 1), 0);
        assert_eq!(utc_day(-1), -1);
    }
}
