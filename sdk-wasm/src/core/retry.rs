//! Batches on their way out, and when to try again after a failure.
//!
//! A batch that could not be delivered leaves the page's memory for the durable queue
//! (IndexedDB, else localStorage; `web::storage`), which every tab of the site shares and
//! one tab at a time drains, oldest first. This module is the policy both sides follow:
//! one backoff for the page (consecutive failures, reset by any answer of the collector),
//! and while it runs, fresh batches go to the queue instead of the network.

use alloc::vec::Vec;

use super::backoff::{self, Outcome};

#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Request body without `sent_at_ms` (see `batch::stamp`).
    pub body: Vec<u8>,
    /// Read from the durable queue: deleted there once the collector took it.
    pub stored: bool,
}

/// What to do with a batch after its request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered (2xx): a stored batch is deleted from the queue and the next one is read.
    Done,
    /// Refused for good (4xx other than 408/429; counted): dropped like a delivered one,
    /// retrying would not help.
    Rejected,
    /// Keep it (a fresh batch goes to the durable queue) and drain again after this many ms.
    RetryIn(u64),
}

/// Consecutive failed requests of this page; their count sets the backoff.
#[derive(Debug, Default)]
pub struct Backoff {
    pub failures: u32,
}

impl Backoff {
    /// Counts a failed request (also one that could not start); the delay before the next.
    pub fn failed(&mut self, jitter: f64, retry_after_ms: Option<u64>) -> u64 {
        self.failures = self.failures.saturating_add(1);
        backoff::delay_ms(self.failures, jitter, retry_after_ms)
    }

    /// Classifies an answer (`None`: network error). `jitter` in 0..1, `retry_after_ms`
    /// from the collector's `Retry-After`.
    pub fn next(&mut self, status: Option<u16>, jitter: f64, retry_after_ms: Option<u64>) -> Next {
        let outcome = backoff::classify(status);
        if outcome == Outcome::Retry {
            return Next::RetryIn(self.failed(jitter, retry_after_ms));
        }
        // The collector answered: it is reachable again.
        self.failures = 0;
        if outcome == Outcome::Rejected {
            Next::Rejected
        } else {
            Next::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_grow_the_delay_until_the_collector_answers() {
        let mut b = Backoff::default();
        assert_eq!(b.next(None, 0.0, None), Next::RetryIn(500));
        assert_eq!(b.next(Some(503), 0.0, None), Next::RetryIn(1_000));
        assert_eq!(b.next(Some(429), 1.0, Some(30_000)), Next::RetryIn(30_000));
        assert_eq!(b.failures, 3);
        assert_eq!(b.next(Some(204), 0.0, None), Next::Done);
        assert_eq!(b.failures, 0);
        assert_eq!(b.next(Some(408), 0.0, None), Next::RetryIn(500));
    }

    #[test]
    fn a_permanent_refusal_is_done_and_resets() {
        let mut b = Backoff { failures: 5 };
        assert_eq!(b.next(Some(400), 0.5, None), Next::Rejected);
        assert_eq!(b.failures, 0);
    }
}
