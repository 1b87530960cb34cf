//! First-party persistence: localStorage, falling back to a cookie (Safari private mode,
//! disabled storage), then to nothing (the caller keeps values in memory). The browser
//! calls are in `js/dom.js` (`store`); what is stored where is decided here.

use alloc::string::String;

use super::js;

/// Values larger than this never go to the cookie fallback (cookies travel with requests).
const MAX_COOKIE_VALUE: usize = 512;

const GET: u32 = 0;
const SET_WITH_COOKIE: u32 = 1;
const SET_LOCAL: u32 = 2;
const REMOVE: u32 = 3;
const REMOVE_LOCAL: u32 = 4;
const TAKE_PREFIXED: u32 = 5;

pub fn get(key: &str) -> Option<String> {
    js::store(GET, key, "")
}

/// Stores `value`; `cookie_fallback` allows the cookie when localStorage is unavailable
/// (only for short, cookie-safe values).
pub fn set(key: &str, value: &str, cookie_fallback: bool) {
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

/// Removes and returns (joined by ',') every localStorage value whose key starts with
/// `prefix` (retry queues left by earlier page loads or other tabs of this site).
pub fn take_prefixed(prefix: &str) -> String {
    js::store(TAKE_PREFIXED, prefix, "").unwrap_or_default()
}

/// localStorage only (for data too large or too frequent for a cookie).
pub fn set_local(key: &str, value: &str) {
    js::store(SET_LOCAL, key, value);
}

pub fn remove_local(key: &str) {
    js::store(REMOVE_LOCAL, key, "");
}
