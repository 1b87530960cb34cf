//! First-party persistence: localStorage, falling back to a cookie (Safari private mode,
//! disabled storage), then to nothing (the caller keeps values in memory).

use alloc::{string::String, vec::Vec};
use wasm_bindgen::JsCast;
use web_sys::{HtmlDocument, Storage};

use super::env;

/// Values larger than this never go to the cookie fallback (cookies travel with requests).
const MAX_COOKIE_VALUE: usize = 512;
/// About a year, for the anonymous id and the opt-out flag.
const COOKIE_MAX_AGE: &str = "31536000";

fn local() -> Option<Storage> {
    env::window()?.local_storage().ok().flatten()
}

fn cookie_document() -> Option<HtmlDocument> {
    env::document()?.dyn_into::<HtmlDocument>().ok()
}

pub fn get(key: &str) -> Option<String> {
    if let Some(storage) = local() {
        if let Ok(value) = storage.get_item(key) {
            return value;
        }
    }
    let cookies = cookie_document()?.cookie().ok()?;
    cookies.split(';').find_map(|pair| {
        let (name, value) = pair.trim_ascii_start().split_once('=')?;
        (name == key).then(|| value.into())
    })
}

/// Stores `value`; `cookie_fallback` allows the cookie when localStorage is unavailable.
pub fn set(key: &str, value: &str, cookie_fallback: bool) {
    if let Some(storage) = local() {
        if storage.set_item(key, value).is_ok() {
            return;
        }
    }
    if cookie_fallback
        && value.len() <= MAX_COOKIE_VALUE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.')
    {
        if let Some(document) = cookie_document() {
            let mut cookie = String::from(key);
            cookie.push('=');
            cookie.push_str(value);
            cookie.push_str("; path=/; SameSite=Lax; max-age=");
            cookie.push_str(COOKIE_MAX_AGE);
            let _ = document.set_cookie(&cookie);
        }
    }
}

pub fn remove(key: &str) {
    if let Some(storage) = local() {
        let _ = storage.remove_item(key);
    }
    if let Some(document) = cookie_document() {
        let mut cookie = String::from(key);
        cookie.push_str("=; path=/; max-age=0");
        let _ = document.set_cookie(&cookie);
    }
}

/// Removes and returns every localStorage value whose key starts with `prefix` (retry
/// queues left by earlier page loads or other tabs of this site).
pub fn take_prefixed(prefix: &str) -> Vec<String> {
    let Some(storage) = local() else {
        return Vec::new();
    };
    let count = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..count)
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with(prefix))
        .collect();
    keys.iter()
        .filter_map(|key| {
            let value = storage.get_item(key).ok().flatten();
            let _ = storage.remove_item(key);
            value
        })
        .collect()
}

/// localStorage only (for data too large or too frequent for a cookie).
pub fn set_local(key: &str, value: &str) {
    if let Some(storage) = local() {
        let _ = storage.set_item(key, value);
    }
}

pub fn remove_local(key: &str) {
    if let Some(storage) = local() {
        let _ = storage.remove_item(key);
    }
}
