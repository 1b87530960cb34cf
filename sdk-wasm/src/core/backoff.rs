//! What to do with a failed delivery, and when to try again.

/// First retry delay; doubled per attempt.
pub const BASE_DELAY_MS: u64 = 1_000;
/// Ceiling of the computed delay (before `Retry-After`, which may ask for longer).
pub const MAX_DELAY_MS: u64 = 60_000;
/// Ceiling of a server's `Retry-After`, so a misconfigured header cannot park data for days.
pub const MAX_RETRY_AFTER_MS: u64 = 10 * 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Transient: network error, 408, 429, 5xx.
    Retry,
    /// The collector refused the batch for good (other 4xx); retrying would not help.
    Rejected,
}

/// Classifies an HTTP status; `None` means the request failed at the network level.
pub fn classify(status: Option<u16>) -> Outcome {
    match status {
        None => Outcome::Retry,
        Some(200..=299) => Outcome::Delivered,
        Some(408 | 429) | Some(500..=599) => Outcome::Retry,
        Some(_) => Outcome::Rejected,
    }
}

/// Delay before retry number `attempt` (1 for the first retry): exponential, capped, with
/// "equal jitter" (half fixed, half random from `jitter` in 0..1) so that many pages failing
/// together do not come back together. A `Retry-After` from the server wins when longer.
pub fn delay_ms(attempt: u32, jitter: f64, retry_after_ms: Option<u64>) -> u64 {
    let exponent = attempt.saturating_sub(1).min(16);
    let capped = (BASE_DELAY_MS << exponent).min(MAX_DELAY_MS);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let computed = capped / 2 + ((capped / 2) as f64 * jitter) as u64;
    match retry_after_ms {
        Some(server) => server.min(MAX_RETRY_AFTER_MS).max(computed),
        None => computed,
    }
}

/// `Retry-After` in delta-seconds form, as milliseconds. (The HTTP-date form is parsed by the
/// browser layer with `Date.parse`, which is already in the page.)
pub fn parse_retry_after_seconds(value: &str) -> Option<u64> {
    let seconds = super::num::parse_u64(value.trim_ascii())?;
    Some(seconds.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        assert_eq!(classify(Some(204)), Outcome::Delivered);
        assert_eq!(classify(None), Outcome::Retry);
        assert_eq!(classify(Some(503)), Outcome::Retry);
        assert_eq!(classify(Some(429)), Outcome::Retry);
        assert_eq!(classify(Some(408)), Outcome::Retry);
        assert_eq!(classify(Some(400)), Outcome::Rejected);
        assert_eq!(classify(Some(413)), Outcome::Rejected);
    }

    #[test]
    fn grows_exponentially_with_bounded_jitter() {
        assert_eq!(delay_ms(1, 0.0, None), 500);
        assert_eq!(delay_ms(1, 1.0, None), 1000);
        assert_eq!(delay_ms(3, 0.0, None), 2000);
        assert_eq!(delay_ms(3, 1.0, None), 4000);
        for attempt in 1..40 {
            let low = delay_ms(attempt, 0.0, None);
            let high = delay_ms(attempt, 1.0, None);
            assert!(low <= high && high <= MAX_DELAY_MS && low >= BASE_DELAY_MS / 2);
        }
        assert_eq!(delay_ms(2, f64::NAN, None), 1500);
    }

    #[test]
    fn honours_retry_after_within_limits() {
        assert_eq!(delay_ms(1, 0.0, Some(30_000)), 30_000);
        // A shorter Retry-After does not make us hammer a struggling server.
        assert_eq!(delay_ms(5, 0.0, Some(10)), 8_000);
        assert_eq!(delay_ms(1, 0.0, Some(u64::MAX)), MAX_RETRY_AFTER_MS);
        assert_eq!(parse_retry_after_seconds(" 7 "), Some(7_000));
        assert_eq!(
            parse_retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"),
            None
        );
    }
}
