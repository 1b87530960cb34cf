//! When the server ends a connection on its own: the deadlines of one connection's life.
//!
//! hyper times an HTTP/1.1 request head only once it knows the connection is HTTP/1;
//! the protocol detection before it (HTTP/1 or the HTTP/2 preface), an HTTP/2
//! connection's SETTINGS exchange and its idle periods have no deadline at all. So a
//! connection that sends nothing, part of the HTTP/2 preface, or the preface and then
//! nothing, would be held forever, and `server.max_connections` of them lock everyone
//! out. The accept loop therefore watches every connection with [`Deadlines`]:
//!
//! * no request started within `server.header_read_timeout_ms` of accept → closed at
//!   once ([`Verdict::Close`]); a request "starts" when hyper hands a complete head to
//!   the service, for either protocol;
//! * no request in progress for `connections.idle_timeout_ms` → asked to close
//!   ([`Verdict::Drain`]: HTTP/2 GOAWAY, HTTP/1.1 closes when idle), cut after a grace;
//! * older than `connections.max_age_ms` (when set) → asked to close the same way.
//!
//! [`Activity`] is what the service tells the watcher: requests started and in progress,
//! and when the last one ended. [`Verdict::KeepUntil`] is never later than any deadline
//! that requests starting or ending meanwhile could bring, so the watcher may sleep until
//! then and re-check when it wakes.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::time::Instant;

use crate::metrics::CloseReason;

/// What the service reports about a connection's requests.
#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    started: AtomicU64,
    in_progress: AtomicUsize,
    /// When the last request ended, in ms since `opened`.
    last_end_ms: AtomicU64,
}

/// A request in progress; dropping it ends the request.
#[derive(Debug)]
pub struct InProgress(Arc<Activity>);

impl Activity {
    pub fn new(opened: Instant) -> Arc<Self> {
        Arc::new(Self {
            opened,
            started: AtomicU64::new(0),
            in_progress: AtomicUsize::new(0),
            last_end_ms: AtomicU64::new(0),
        })
    }

    /// A complete request head arrived.
    pub fn begin(self: &Arc<Self>) -> InProgress {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.in_progress.fetch_add(1, Ordering::AcqRel);
        InProgress(self.clone())
    }

    fn last_end(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_end_ms.load(Ordering::Acquire))
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let activity = &self.0;
        let since_open = Instant::now().saturating_duration_since(activity.opened);
        let ms = u64::try_from(since_open.as_millis()).unwrap_or(u64::MAX);
        activity.last_end_ms.fetch_max(ms, Ordering::AcqRel);
        activity.in_progress.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The limits a connection lives by.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// First request head (from accept).
    pub first_request: Duration,
    /// No request in progress.
    pub idle: Duration,
    /// Since accept; `None`: unlimited.
    pub max_age: Option<Duration>,
}

/// What to do with a connection now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do before this instant (re-check then).
    KeepUntil(Instant),
    /// Close now, without ceremony: it never became a real HTTP connection.
    Close(CloseReason),
    /// Ask the client to go away (GOAWAY / `Connection: close`) and let requests in
    /// progress finish.
    Drain(CloseReason),
}

impl Deadlines {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            first_request: Duration::from_millis(config.server.header_read_timeout_ms),
            idle: Duration::from_millis(config.connections.idle_timeout_ms),
            max_age: (config.connections.max_age_ms > 0)
                .then(|| Duration::from_millis(config.connections.max_age_ms)),
        }
    }

    /// The verdict for `activity` at `now`.
    pub fn verdict(&self, activity: &Activity, now: Instant) -> Verdict {
        let opened = activity.opened;
        let max_age_at = self.max_age.map(|age| opened + age);
        let wake = if activity.started.load(Ordering::Relaxed) == 0 {
            let deadline = opened + self.first_request;
            if now >= deadline {
                return Verdict::Close(CloseReason::HeaderTimeout);
            }
            // A request may start any moment; no idle deadline can come before this.
            deadline.min(opened + self.idle)
        } else if activity.in_progress.load(Ordering::Acquire) == 0 {
            let deadline = activity.last_end() + self.idle;
            if now >= deadline {
                return Verdict::Drain(CloseReason::IdleTimeout);
            }
            deadline
        } else {
            // A request in progress has its own time limits; an idle deadline starts
            // when it ends, so not before `now + idle`.
            now + self.idle
        };
        match max_age_at {
            Some(at) if now >= at => Verdict::Drain(CloseReason::MaxAge),
            Some(at) => Verdict::KeepUntil(wake.min(at)),
            None => Verdict::KeepUntil(wake),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn deadlines(max_age: Option<Duration>) -> Deadlines {
        Deadlines {
            first_request: 10 * S,
            idle: 60 * S,
            max_age,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_is_closed_at_the_header_timeout() {
        let t0 = Instant::now();
        let activity = Activity::new(t0);
        let d = deadlines(None);
        assert_eq!(d.verdict(&activity, t0), Verdict::KeepUntil(t0 + 10 * S));
        assert_eq!(
            d.verdict(&activity, t0 + 10 * S),
            Verdict::Close(CloseReason::HeaderTimeout)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn before_the_first_request_it_wakes_no_later_than_idle_or_max_age_could_end_it() {
        let t0 = Instant::now();
        let activity = Activity::new(t0);
        let d = Deadlines {
            first_request: 10 * S,
            idle: 2 * S,
            max_age: Some(5 * S),
        };
        // A request started and ended at once would be idle-closed at 2 s.
        assert_eq!(d.verdict(&activity, t0), Verdict::KeepUntil(t0 + 2 * S));
        drop(activity.begin());
        assert_eq!(
            d.verdict(&activity, t0 + 2 * S),
            Verdict::Drain(CloseReason::IdleTimeout)
        );
        let busy = Activity::new(t0);
        let _request = busy.begin();
        assert_eq!(d.verdict(&busy, t0 + 2 * S), Verdict::KeepUntil(t0 + 4 * S));
        assert_eq!(
            d.verdict(&busy, t0 + 5 * S),
            Verdict::Drain(CloseReason::MaxAge)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_end_of_the_last_request_never_during_one() {
        let t0 = Instant::now();
        let activity = Activity::new(t0);
        let d = deadlines(None);
        tokio::time::advance(2 * S).await;
        let request = activity.begin();
        // In progress: no idle deadline, however long it takes.
        let later = Instant::now() + 500 * S;
        assert!(matches!(d.verdict(&activity, later), Verdict::KeepUntil(_)));
        tokio::time::advance(5 * S).await;
        drop(request);
        let ended = t0 + 7 * S;
        assert_eq!(
            d.verdict(&activity, ended),
            Verdict::KeepUntil(ended + 60 * S)
        );
        assert_eq!(
            d.verdict(&activity, ended + 60 * S),
            Verdict::Drain(CloseReason::IdleTimeout)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn max_age_drains_even_a_busy_connection() {
        let t0 = Instant::now();
        let activity = Activity::new(t0);
        let d = deadlines(Some(30 * S));
        let _busy = activity.begin();
        assert_eq!(d.verdict(&activity, t0), Verdict::KeepUntil(t0 + 30 * S));
        assert_eq!(
            d.verdict(&activity, t0 + 30 * S),
            Verdict::Drain(CloseReason::MaxAge)
        );
    }
}
