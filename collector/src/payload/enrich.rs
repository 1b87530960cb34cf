//! Server-side facts added to each event: clock-skew-corrected time and the window
//! it must fall in, and the client address truncated to its network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// The network part of `ip` (IPv4 /`v4_prefix`, IPv6 /`v6_prefix`; an IPv4-mapped IPv6
/// address as IPv4), so the collector never forwards a full client address.
pub fn truncate_ip(ip: IpAddr, v4_prefix: u8, v6_prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => Ipv4Net::new(v4, v4_prefix.min(32))
            .map(|n| IpAddr::V4(n.trunc().addr()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        IpAddr::V6(v6) => Ipv6Net::new(v6, v6_prefix.min(128))
            .map(|n| IpAddr::V6(n.trunc().addr()))
            .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
    }
}

/// Event time on the server clock: `received_at - (client sent_at - client event time)`.
///
/// The client's clock may be off by hours; the *difference* between two readings of
/// the same clock is still right, so it is applied to the server's receive time. A
/// batch without `sent_at` cannot be corrected and keeps the client time.
pub fn corrected_event_time_ms(received_at_ms: i64, sent_at_ms: i64, client_ts_ms: i64) -> i64 {
    if sent_at_ms <= 0 {
        return client_ts_ms;
    }
    received_at_ms.saturating_sub(sent_at_ms.saturating_sub(client_ts_ms))
}

/// How far the client clock is ahead (+) or behind (−) the server's, ignoring network
/// transit; `None` when the batch carries no `sent_at`.
pub fn clock_skew_ms(received_at_ms: i64, sent_at_ms: i64) -> Option<i64> {
    (sent_at_ms > 0).then(|| sent_at_ms.saturating_sub(received_at_ms))
}

/// Whether a corrected event time lies within `[received − max_age, received + max_future]`.
pub fn within_window(
    event_time_ms: i64,
    received_at_ms: i64,
    max_age_ms: i64,
    max_future_ms: i64,
) -> bool {
    event_time_ms >= received_at_ms.saturating_sub(max_age_ms)
        && event_time_ms <= received_at_ms.saturating_add(max_future_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn truncation_defaults_and_mapped_addresses() {
        assert_eq!(truncate_ip(ip("203.0.113.77"), 24, 48), ip("203.0.113.0"));
        assert_eq!(
            truncate_ip(ip("2001:db8:1234:5678::1"), 24, 48),
            ip("2001:db8:1234::")
        );
        assert_eq!(
            truncate_ip(ip("::ffff:198.51.100.9"), 24, 48),
            ip("198.51.100.0")
        );
        assert_eq!(truncate_ip(ip("198.51.100.9"), 16, 48), ip("198.51.0.0"));
    }

    #[test]
    fn a_clock_two_hours_ahead_is_corrected() {
        let server_now = 1_700_000_000_000;
        let client_ahead = 2 * 3600 * 1000;
        let sent = server_now + client_ahead;
        let happened = sent - 4_000; // 4 s before sending, on the client clock
        assert_eq!(
            corrected_event_time_ms(server_now, sent, happened),
            server_now - 4_000
        );
        assert_eq!(clock_skew_ms(server_now, sent), Some(client_ahead));
    }

    #[test]
    fn without_sent_at_the_client_time_is_kept() {
        assert_eq!(corrected_event_time_ms(10_000, 0, 9_000), 9_000);
        assert_eq!(clock_skew_ms(10_000, 0), None);
    }

    #[test]
    fn extreme_values_saturate_instead_of_overflowing() {
        let t = corrected_event_time_ms(i64::MAX, 1, i64::MIN);
        assert!(!within_window(t, 1_000, 10, 10));
        let t = corrected_event_time_ms(0, i64::MAX, i64::MIN);
        assert!(!within_window(t, 1_000, 10, 10));
    }

    #[test]
    fn window_edges() {
        assert!(within_window(1_000, 1_000, 0, 0));
        assert!(within_window(900, 1_000, 100, 0));
        assert!(!within_window(899, 1_000, 100, 0));
        assert!(within_window(1_100, 1_000, 0, 100));
        assert!(!within_window(1_101, 1_000, 0, 100));
    }
}
