//! Rate limits: per client IP (requests), per site key (events) and the hot-user guard
//! (events per user key). All GCRA via governor; each can be disabled with rate 0.
//! Concurrency caps per client address (connections, requests in progress) are in
//! [`concurrency`].

pub mod concurrency;
pub mod keyed;

use std::{net::IpAddr, time::Duration};

use crate::config::{HotUserAction, RateLimitsConfig};
use keyed::KeyedLimiter;

/// Names used in `rate_limited_total{limiter}` and error details.
pub const LIMITER_IP: &str = "ip";
pub const LIMITER_SITE: &str = "site";
pub const LIMITER_HOT_USER: &str = "hot_user";
/// `rate_limits.per_source_events_per_s` (JSON import API, per write key).
pub const LIMITER_SOURCE: &str = "source";
/// `server.max_in_flight_requests_per_ip`.
pub const LIMITER_IP_CONCURRENCY: &str = "ip_concurrency";

/// What the hot-user guard decided for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerdict {
    Normal,
    /// Route this batch's events to the overflow topic, unkeyed.
    Overflow,
    /// Refuse the batch with 429.
    Refuse(Duration),
}

pub struct Limiters {
    per_ip: Option<KeyedLimiter<IpAddr>>,
    per_site: Option<KeyedLimiter<String>>,
    hot_user: Option<KeyedLimiter<String>>,
    per_source: Option<KeyedLimiter<String>>,
    hot_user_action: HotUserAction,
}

impl Limiters {
    pub fn new(config: &RateLimitsConfig) -> Self {
        Self {
            per_ip: KeyedLimiter::new(config.per_ip_per_s, config.per_ip_burst),
            per_site: KeyedLimiter::new(config.per_site_events_per_s, config.per_site_events_burst),
            hot_user: KeyedLimiter::new(config.hot_user_events_per_s, config.hot_user_events_burst),
            per_source: KeyedLimiter::new(
                config.per_source_events_per_s,
                config.per_source_events_burst,
            ),
            hot_user_action: config.hot_user_action,
        }
    }

    /// One request from `ip` (the full address: limiter state stays in memory only).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Duration> {
        self.per_ip.as_ref().map_or(Ok(()), |l| l.check(&ip, 1))
    }

    /// `events` events for `site`.
    pub fn check_site(&self, site: &str, events: usize) -> Result<(), Duration> {
        self.per_site.as_ref().map_or(Ok(()), |l| {
            l.check(&site.to_owned(), saturating_u32(events))
        })
    }

    /// `events` imported messages for the source named `source`.
    pub fn check_source(&self, source: &str, events: usize) -> Result<(), Duration> {
        self.per_source.as_ref().map_or(Ok(()), |l| {
            l.check(&source.to_owned(), saturating_u32(events))
        })
    }

    /// `events` events for one user key.
    pub fn check_user(&self, user_key: &str, events: usize) -> UserVerdict {
        let Some(limiter) = &self.hot_user else {
            return UserVerdict::Normal;
        };
        match limiter.check(&user_key.to_owned(), saturating_u32(events)) {
            Ok(()) => UserVerdict::Normal,
            Err(wait) => match self.hot_user_action {
                HotUserAction::Overflow => UserVerdict::Overflow,
                HotUserAction::Reject => UserVerdict::Refuse(wait),
            },
        }
    }

    /// Forgets idle keys of every limiter (called periodically).
    pub fn forget_idle(&self) {
        for limiter in [&self.per_site, &self.hot_user, &self.per_source]
            .into_iter()
            .flatten()
        {
            limiter.forget_idle();
        }
        if let Some(limiter) = &self.per_ip {
            limiter.forget_idle();
        }
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RateLimitsConfig {
        RateLimitsConfig {
            per_ip_per_s: 1,
            per_ip_burst: 2,
            per_site_events_per_s: 10,
            per_site_events_burst: 10,
            hot_user_events_per_s: 5,
            hot_user_events_burst: 5,
            ..Default::default()
        }
    }

    #[test]
    fn per_ip_limit() {
        let limiters = Limiters::new(&config());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiters.check_ip(ip).is_ok());
        assert!(limiters.check_ip(ip).is_ok());
        assert!(limiters.check_ip(ip).is_err());
        assert!(limiters.check_ip("192.0.2.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn per_site_counts_events() {
        let limiters = Limiters::new(&config());
        assert!(limiters.check_site("s", 10).is_ok());
        assert!(limiters.check_site("s", 1).is_err());
        assert!(limiters.check_site("other", 1).is_ok());
    }

    #[test]
    fn hot_user_overflows_or_refuses() {
        let limiters = Limiters::new(&config());
        assert_eq!(limiters.check_user("u", 5), UserVerdict::Normal);
        assert_eq!(limiters.check_user("u", 1), UserVerdict::Overflow);
        let strict = Limiters::new(&RateLimitsConfig {
            hot_user_action: HotUserAction::Reject,
            ..config()
        });
        assert_eq!(strict.check_user("u", 5), UserVerdict::Normal);
        assert!(matches!(strict.check_user("u", 1), UserVerdict::Refuse(_)));
    }

    #[test]
    fn disabled_limits_allow_everything() {
        let limiters = Limiters::new(&RateLimitsConfig {
            per_ip_per_s: 0,
            per_site_events_per_s: 0,
            hot_user_events_per_s: 0,
            ..Default::default()
        });
        for _ in 0..1000 {
            assert!(limiters.check_ip("192.0.2.1".parse().unwrap()).is_ok());
            assert!(limiters.check_site("s", 1_000_000).is_ok());
            assert_eq!(limiters.check_user("u", 1_000_000), UserVerdict::Normal);
        }
    }
}
