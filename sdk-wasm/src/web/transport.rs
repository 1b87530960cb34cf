//! Delivery: `fetch` (keepalive) for normal flushes, `sendBeacon` when the page is being
//! hidden or unloaded, both as `text/plain` so a cross-origin collector needs no CORS
//! preflight (the body is the protobuf `Batch` all the same). Outcomes come back through
//! `dispatch` to `Sdk::on_delivery`, which decides about retries.

use wasm_bindgen::JsValue;

use super::{env, js};
use crate::{
    boundary::delivery::{self, *},
    core::{backoff, batch},
};

/// What a finished request reports back.
pub struct Delivery {
    pub request_id: u32,
    /// HTTP status; `None` for a network error.
    pub status: Option<u16>,
    pub retry_after_ms: Option<u64>,
}

impl Delivery {
    /// From the dispatched numbers (`boundary::delivery`) and the Retry-After header
    /// (`target`).
    pub fn read(target: &JsValue, args: &js::Args<delivery::Layout>) -> Delivery {
        let status = args.get(STATUS);
        let date_ms = args.raw(RETRY_DATE_MS);
        let retry_after_ms = target.as_string().and_then(|value| {
            backoff::parse_retry_after_seconds(&value)
                .or_else(|| date_ms.is_finite().then(|| date_ms.max(0.0) as u64))
        });
        Delivery {
            request_id: args.get(REQUEST_ID) as u32,
            status: (status >= 1.0).then(|| status.min(999.0) as u16),
            retry_after_ms,
        }
    }
}

/// Sends `body` (stamped now) with fetch; the outcome arrives in `Sdk::on_delivery`.
/// Returns false when the request could not even be started.
pub fn fetch(endpoint: &str, source: &[u8], body: &[u8], request_id: u32) -> bool {
    js::send(
        endpoint,
        &batch::stamp(source, body, env::now_ms() as i64),
        request_id,
        false,
    )
}

/// Hands `body` to the browser to deliver even if the page goes away. True when accepted.
pub fn beacon(endpoint: &str, source: &[u8], body: &[u8]) -> bool {
    js::send(
        endpoint,
        &batch::stamp(source, body, env::now_ms() as i64),
        0,
        true,
    )
}
