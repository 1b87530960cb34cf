//! A GCRA limiter per key (governor), answering "allowed" or "retry after".

use std::{hash::Hash, num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};

/// `None` from [`KeyedLimiter::new`] means the limit is disabled (rate 0).
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    per_second: NonZeroU32,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `per_second` cells per second with bursts of `burst` (at least `per_second`).
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second))?;
        Some(Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            per_second: rate,
        })
    }

    /// Takes `cells` (events or requests) for `key`; `Err(wait)` when over the limit.
    /// Nothing is taken when refused, so a refused batch does not eat its sender's budget.
    pub fn check(&self, key: &K, cells: u32) -> Result<(), Duration> {
        let Some(cells) = NonZeroU32::new(cells) else {
            return Ok(());
        };
        match self.limiter.check_key_n(key, cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            // More cells than the burst can ever hold: wait for a full refill.
            Err(_) => Err(Duration::from_secs_f64(
                f64::from(cells.get()) / f64::from(self.per_second.get()),
            )),
        }
    }

    /// Drops keys whose state is back to "full budget", bounding memory.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    pub fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rate_disables() {
        assert!(KeyedLimiter::<u32>::new(0, 10).is_none());
    }

    #[test]
    fn burst_then_refused_with_a_wait_and_keys_are_independent() {
        let limiter = KeyedLimiter::new(1, 3).unwrap();
        for _ in 0..3 {
            assert!(limiter.check(&"a", 1).is_ok());
        }
        let wait = limiter.check(&"a", 1).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limiter.check(&"b", 1).is_ok());
        assert_eq!(limiter.tracked_keys(), 2);
    }

    #[test]
    fn n_cells_at_once_and_more_than_burst() {
        let limiter = KeyedLimiter::new(10, 20).unwrap();
        assert!(limiter.check(&1, 20).is_ok());
        assert!(limiter.check(&1, 1).is_err());
        assert!(limiter.check(&2, 21).is_err());
        // A refused request takes nothing.
        assert!(limiter.check(&2, 20).is_ok());
        assert!(limiter.check(&3, 0).is_ok());
    }
}
