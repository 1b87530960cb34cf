//! Everything a site can configure, with its default and its limit, in one place.
//! The browser layer reads `init({...})` into this struct; unknown or invalid values keep
//! the defaults documented here.

use alloc::{string::String, vec::Vec};

/// Events per batch by default.
pub const DEFAULT_MAX_EVENTS: usize = 50;
/// Bytes per batch by default: well under the 64 KB `sendBeacon` limit.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024;
/// Allowed range for `batch.maxBytes` (the upper end keeps beacons deliverable).
pub const MAX_BYTES_RANGE: (usize, usize) = (1024, 60 * 1024);
/// Allowed range for `batch.maxEvents`.
pub const MAX_EVENTS_RANGE: (usize, usize) = (1, 500);
pub const DEFAULT_FLUSH_INTERVAL_MS: u32 = 5_000;
/// Allowed range for `batch.flushIntervalMs`.
pub const FLUSH_INTERVAL_RANGE: (u32, u32) = (250, 600_000);
/// Minimum pointer dwell for a hover event.
pub const DEFAULT_HOVER_MS: u32 = 500;
/// Closed batches kept in memory while consent is pending.
pub const MAX_OUTBOX_BATCHES: usize = 20;
/// Bytes of undelivered batches kept in the durable queue (IndexedDB) by default
/// (`queue.maxBytes`); the oldest are evicted, and counted, beyond it.
pub const DEFAULT_RETRY_BYTES: usize = 1024 * 1024;
/// Allowed range for `queue.maxBytes`: at least one full batch, at most 64 MiB. The
/// localStorage fallback keeps at most 128 KiB of it (`js/dom.js`): that storage is
/// small, synchronous and shared with the host page.
pub const RETRY_BYTES_RANGE: (usize, usize) = (64 * 1024, 64 * 1024 * 1024);
/// Limits on what host code can put into an event through the API.
pub const MAX_NAME_BYTES: usize = 128;
pub const MAX_VALUE_BYTES: usize = 512;
pub const MAX_PROPERTIES: usize = 32;
/// Element text, when enabled, is cut to this many bytes.
pub const MAX_TEXT_BYTES: usize = 64;
/// Default ad slot selector (issue 5).
pub const DEFAULT_AD_SELECTOR: &str = "[data-ad-slot]";

/// Default `dataAttributes` and `queryAllowlist`, in the form [`list`] reads (the same
/// parser as the `init` options, instead of a second, iterator-built copy in the wasm).
pub const DEFAULT_DATA_ATTRIBUTES: &str =
    "track\u{1}ad-slot\u{1}ad-creative\u{1}ad-campaign\u{1}ad-placement";
pub const DEFAULT_QUERY_ALLOWLIST: &str = "utm_*";

/// A list of names joined by '\u{1}' (how `js/dom.js` passes string arrays): empty names
/// skipped, at most [`MAX_PROPERTIES`].
pub fn list(joined: &str) -> Vec<String> {
    let mut list = Vec::new();
    for item in super::text::parts(joined, crate::boundary::sep::RECORD) {
        if list.len() == MAX_PROPERTIES {
            break;
        }
        if !item.is_empty() {
            list.push(String::from(item));
        }
    }
    list
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Capture and send.
    Granted,
    /// Capture into memory only; nothing leaves the page until granted.
    Pending,
    /// Capture nothing; forget what was kept.
    Denied,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Full endpoint URL (the browser layer appends `/v1/batch` to a bare origin).
    pub endpoint: String,
    pub site_key: String,
    pub clicks: bool,
    pub scroll: bool,
    pub hovers: bool,
    pub ads: bool,
    pub ad_selector: String,
    pub max_events: usize,
    pub max_bytes: usize,
    pub flush_interval_ms: u32,
    /// `init`'s consent, audience and GPC as a given word of `core::privacy` (parsed by
    /// `js/dom.js`: `consent` a state or an object of purposes, `audience: 'minor'`,
    /// `navigator.globalPrivacyControl` unless `respectGlobalPrivacyControl: false`).
    pub privacy: u32,
    pub respect_do_not_track: bool,
    /// Share of visitors tracked, 0..=1, decided per anonymous id so it is stable.
    pub sample_rate: f64,
    pub debug: bool,
    pub hover_ms: u32,
    /// Send up to `MAX_TEXT_BYTES` of an element's visible text (off: text is free content).
    pub element_text: bool,
    /// data-* attributes (without the prefix) copied into clicks and hovers.
    pub data_attributes: Vec<String>,
    /// Query parameters kept in URLs; `*` at the end is a prefix match.
    pub query_allowlist: Vec<String>,
    /// Byte cap of the durable queue of undelivered batches (`queue.maxBytes`).
    pub retry_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            site_key: String::new(),
            clicks: true,
            scroll: true,
            hovers: true,
            ads: true,
            ad_selector: DEFAULT_AD_SELECTOR.into(),
            max_events: DEFAULT_MAX_EVENTS,
            max_bytes: DEFAULT_MAX_BYTES,
            flush_interval_ms: DEFAULT_FLUSH_INTERVAL_MS,
            privacy: 0,
            respect_do_not_track: false,
            sample_rate: 1.0,
            debug: false,
            hover_ms: DEFAULT_HOVER_MS,
            element_text: false,
            data_attributes: list(DEFAULT_DATA_ATTRIBUTES),
            query_allowlist: list(DEFAULT_QUERY_ALLOWLIST),
            retry_bytes: DEFAULT_RETRY_BYTES,
        }
    }
}

/// `value` clamped into `range`.
pub fn clamp<T: PartialOrd>(value: T, range: (T, T)) -> T {
    if value < range.0 {
        range.0
    } else if value > range.1 {
        range.1
    } else {
        value
    }
}

/// Whether the visitor with `anonymous_id` is in the sample: a stable hash (FNV-1a) of the
/// id against the rate, so a visitor is either always or never tracked.
pub fn sampled_in(anonymous_id: &str, rate: f64) -> bool {
    if rate >= 1.0 || rate.is_nan() {
        return true;
    }
    let mut hash: u32 = 0x811c_9dc5;
    for byte in anonymous_id.bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    f64::from(hash % 10_000) < rate * 10_000.0
}

/// `text` cut to at most `max` bytes on a char boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.get(..cut).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_stable_and_roughly_proportional() {
        let ids: Vec<String> = (0..2000).map(|i| alloc::format!("visitor-{i}")).collect();
        let kept = ids.iter().filter(|id| sampled_in(id, 0.25)).count();
        assert!((400..600).contains(&kept), "{kept}");
        assert!(
            ids.iter()
                .all(|id| sampled_in(id, 0.25) == sampled_in(id, 0.25))
        );
        assert!(ids.iter().all(|id| sampled_in(id, 1.0)));
        assert!(!ids.iter().any(|id| sampled_in(id, 0.0)));
    }

    #[test]
    fn clamps_and_truncates() {
        assert_eq!(clamp(100_000, MAX_BYTES_RANGE), 60 * 1024);
        assert_eq!(clamp(0, MAX_EVENTS_RANGE), 1);
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
