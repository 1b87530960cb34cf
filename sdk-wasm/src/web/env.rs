//! Clocks, random ids, debug reports and page state, over `js`.

use alloc::{string::String, vec::Vec};

use super::js::{self, Numbers};
use crate::boundary::page_state::{self, ACTIVE, DO_NOT_TRACK, SIGNALS};

/// Wall clock, ms since the Unix epoch (what events carry).
pub fn now_ms() -> f64 {
    js::now(false)
}

/// Monotonic clock for durations (dwell, viewability).
pub fn perf_ms() -> f64 {
    js::now(true)
}

/// Runs the timer `purpose` (with `key`) once after `delay_ms` (0 = as soon as the current
/// task and its microtasks are done, i.e. off the interaction path).
pub fn set_timeout(delay_ms: f64, purpose: u32, key: u32) -> Option<i32> {
    Some(js::timer(
        delay_ms.clamp(0.0, 2_147_000_000.0),
        purpose,
        key,
    ))
}

pub fn clear_timeout(handle: i32) {
    js::clear(handle);
}

/// `console.error` of a fixed message in debug mode: a `boundary::report` code, whose text
/// `js/dom.js` takes from the optional module `js/modules/debug.js` (no texts in the wasm).
pub fn report(debug: bool, code: u32) {
    if debug {
        js::log(code);
    }
}

/// Whether the page is visible and focused: when ad time may accrue.
pub fn page_active() -> bool {
    Numbers::<page_state::Layout>::read().get(ACTIVE) == 1.0
}

/// navigator.doNotTrack or Global Privacy Control.
pub fn do_not_track() -> bool {
    Numbers::<page_state::Layout>::read().get(DO_NOT_TRACK) == 1.0
}

/// Invalid-traffic signals: bit 0 `navigator.webdriver`, bit 1 `document.prerendering`.
pub fn signals() -> u32 {
    Numbers::<page_state::Layout>::read().get(SIGNALS) as u32
}

/// Source of random ids: `crypto.getRandomValues`, drawn in blocks so an event costs one
/// copy, not one call into the browser.
pub struct Random {
    pool: Vec<u8>,
    used: usize,
}

impl Random {
    pub fn new() -> Random {
        Random {
            pool: Vec::new(),
            used: 0,
        }
    }

    fn take(&mut self, count: usize) -> &[u8] {
        if self.used + count > self.pool.len() {
            self.pool = js::rand();
            self.used = 0;
        }
        let start = self.used;
        self.used += count;
        self.pool.get(start..start + count).unwrap_or_default()
    }

    pub fn id(&mut self) -> Vec<u8> {
        let mut id = self.take(16).to_vec();
        // A browser that returned fewer bytes still gets ids of the right length.
        id.resize(16, 0);
        id
    }

    pub fn hex_id(&mut self) -> String {
        crate::core::hex::encode(&self.id())
    }

    /// A number in 0..1 for backoff jitter (not security relevant).
    pub fn unit(&mut self) -> f64 {
        let bytes = self.take(4);
        let value = bytes
            .iter()
            .fold(0u32, |acc, byte| (acc << 8) | u32::from(*byte));
        f64::from(value) / 4_294_967_296.0
    }
}
