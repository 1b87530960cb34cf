//! Delivery: `fetch` for normal flushes, `sendBeacon` (fallback `fetch` with `keepalive`)
//! when the page is being hidden or unloaded. Bodies go as `text/plain` so a cross-origin
//! collector needs no CORS preflight; the body is the protobuf `Batch` all the same.
//! Outcomes come back to the SDK state (`Sdk::on_delivery`), which decides about retries.

use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{Blob, BlobPropertyBag, RequestCredentials, RequestInit, RequestMode, Response};

use super::{env, with_sdk};
use crate::core::{backoff, batch};

/// What a finished request reports back.
pub struct Delivery {
    pub request_id: u32,
    /// HTTP status; `None` for a network error.
    pub status: Option<u16>,
    pub retry_after_ms: Option<u64>,
}

fn blob(body: &[u8]) -> Option<Blob> {
    let parts = Array::of1(&Uint8Array::from(body));
    let options = BlobPropertyBag::new();
    options.set_type("text/plain");
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()
}

/// Sends `body` (unstamped) with fetch; the outcome arrives in `Sdk::on_delivery`.
/// Returns false when the request could not even be started.
pub fn fetch(endpoint: &str, body: &[u8], request_id: u32, keepalive: bool) -> bool {
    let Some(window) = env::window() else {
        return false;
    };
    let Some(blob) = blob(&batch::stamp(body, env::now_ms() as i64)) else {
        return false;
    };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&blob);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    let _ = Reflect::set(
        &init,
        &JsValue::from_str("keepalive"),
        &JsValue::from_bool(keepalive),
    );
    let promise = window.fetch_with_str_and_init(endpoint, &init);
    // One function for both outcomes: exactly one of them runs, which frees it.
    let settle = Closure::once_into_js(move |outcome: JsValue| {
        let delivery = match outcome.dyn_into::<Response>() {
            Ok(response) => Delivery {
                request_id,
                status: Some(response.status()),
                retry_after_ms: retry_after(&response),
            },
            Err(_) => Delivery {
                request_id,
                status: None,
                retry_after_ms: None,
            },
        };
        with_sdk(|sdk| sdk.on_delivery(delivery));
    });
    let Ok(then) =
        Reflect::get(&promise, &JsValue::from_str("then")).and_then(|f| f.dyn_into::<Function>())
    else {
        return false;
    };
    then.call2(&promise, &settle, &settle).is_ok()
}

/// Hands `body` to the browser to deliver even if the page goes away. True when accepted.
pub fn beacon(endpoint: &str, body: &[u8]) -> bool {
    let Some(window) = env::window() else {
        return false;
    };
    let Some(blob) = blob(&batch::stamp(body, env::now_ms() as i64)) else {
        return false;
    };
    window
        .navigator()
        .send_beacon_with_opt_blob(endpoint, Some(&blob))
        .unwrap_or(false)
}

fn retry_after(response: &Response) -> Option<u64> {
    let value = response.headers().get("retry-after").ok().flatten()?;
    backoff::parse_retry_after_seconds(&value).or_else(|| {
        let at = js_sys::Date::parse(&value);
        at.is_finite().then(|| (at - env::now_ms()).max(0.0) as u64)
    })
}
