//! First-party persistence: localStorage, falling back to a cookie (Safari private mode,
//! disabled storage), then to nothing (the caller keeps values in memory). The browser
//! calls are in `js/dom.js` (`store`); what is stored where is decided here.

use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::js;
use crate::boundary::store::{GET, REMOVE, SET_LOCAL, SET_WITH_COOKIE};
use crate::core::{privacy, schema::privacy_mode};

/// The visitor's own opt-out: kept in every privacy mode (it is what they asked for), so it
/// does not pass the gate (`opted_out`, `set_opted_out`).
const KEY_OPT_OUT: &str = "sl_optout";

/// The storage gate (issue 18): only a persistent privacy mode reads or writes the device
/// (ids, session, durable queue); cookieless and restricted pages leave no trace. Removing
/// is always allowed. A static, not an `Sdk` field: every storage call passes here.
static PERSISTENT: AtomicBool = AtomicBool::new(false);

/// Sets the gate from a privacy state; returns whether storage is allowed.
pub fn persist(state: u32) -> bool {
    let persistent = privacy::mode(state) == privacy_mode::PERSISTENT;
    PERSISTENT.store(persistent, Relaxed);
    persistent
}

pub fn opted_out() -> bool {
    js::store(GET, KEY_OPT_OUT, "").is_some()
}

pub fn set_opted_out(opted_out: bool) {
    let op = if opted_out { SET_WITH_COOKIE } else { REMOVE };
    js::store(op, KEY_OPT_OUT, "1");
}

/// Values larger than this never go to the cookie fallback (cookies travel with requests).
const MAX_COOKIE_VALUE: usize = 512;

pub fn get(key: &str) -> Option<String> {
    if !PERSISTENT.load(Relaxed) {
        return None;
    }
    js::store(GET, key, "")
}

/// Stores `value`; `cookie_fallback` allows the cookie when localStorage is unavailable
/// (only for short, cookie-safe values).
pub fn set(key: &str, value: &str, cookie_fallback: bool) {
    if !PERSISTENT.load(Relaxed) {
        return;
    }
    let cookie_safe = value.len() <= MAX_COOKIE_VALUE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.');
    let op = if cookie_fallback && cookie_safe {
        SET_WITH_COOKIE
    } else {
        SET_LOCAL
    };
    js::store(op, key, value);
}

pub fn remove(key: &str) {
    js::store(REMOVE, key, "");
}

/// The durable queue of undelivered batches (issue 8), kept by `js/dom.js`: IndexedDB,
/// else localStorage (else memory), shared by the site's tabs, capped in bytes with the
/// oldest batches evicted first and counted. One tab at a time drains it (Web Lock, else a
/// lease record), and a batch leaves it only after the collector answered 2xx or refused
/// it for good. Redelivery after a lost answer is possible; event ids make it idempotent.
pub mod queue {
    use alloc::vec::Vec;

    use super::js::{self, Numbers};
    use crate::boundary::{
        evicted,
        queue::{BODY, CLEAR, NEXT, OPEN, PUT, RELEASE},
    };

    /// Opens IndexedDB with the queue's byte cap (async; drains wait for it, and use
    /// localStorage when it fails).
    /// Only when the storage gate is open (callers check `Delivery::durable`).
    pub fn open(max_bytes: usize, debug: bool) {
        js::queue(OPEN, &[], max_bytes as f64, debug as u8 as f64);
    }

    /// Keeps `body` for a later attempt. `at_exit`: the page is going away, so only a
    /// synchronous write (localStorage) is sure to land.
    pub fn put(body: &[u8], at_exit: bool) {
        if !super::PERSISTENT.load(super::Relaxed) {
            return;
        }
        js::queue(PUT, body, at_exit as u8 as f64, 0.0);
    }

    /// Takes the drain lock (when no other tab holds it) and hands out the oldest batch:
    /// `QUEUE_BATCH` follows, read it with [`taken`]. `delivered`: first delete the batch
    /// handed out before.
    pub fn next(delivered: bool) {
        js::queue(NEXT, &[], delivered as u8 as f64, 0.0);
    }

    /// The batch handed out by [`next`]; `None` when the queue is empty or another tab
    /// drains it (the lock is then already released).
    pub fn taken() -> Option<Vec<u8>> {
        js::queue(BODY, &[], 0.0, 0.0)
    }

    /// Gives the drain lock back; the batch handed out stays queued.
    pub fn release() {
        js::queue(RELEASE, &[], 0.0, 0.0);
    }

    /// Deletes every queued batch (consent denied, opt-out).
    pub fn clear() {
        js::queue(CLEAR, &[], 0.0, 0.0);
    }

    /// Batches evicted since the previous call, read and reset: `js/dom.js` counts them in
    /// localStorage `sl_qe` (the site's, all tabs); `nums(EVICTED)` reads and removes it.
    pub fn take_evicted() -> u32 {
        Numbers::<evicted::Layout>::read().get(evicted::COUNT) as u32
    }
}
