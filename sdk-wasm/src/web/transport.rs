//! Delivery: `fetch` (keepalive) for normal flushes, `sendBeacon` when the page is being
//! hidden or unloaded, both as `text/plain` so a cross-origin collector needs no CORS
//! preflight (the body is the protobuf `Batch` all the same). Outcomes come back through
//! `dispatch` as an [`Answer`] for `core::delivery`, which decides about retries.

use wasm_bindgen::JsValue;

use super::js;
use crate::{
    boundary::delivery::{self, *},
    core::backoff,
};

/// What a finished request reports back.
pub struct Answer {
    pub request_id: u32,
    /// HTTP status; `None` for a network error.
    pub status: Option<u16>,
    pub retry_after_ms: Option<u64>,
}

impl Answer {
    /// From the dispatched numbers (`boundary::delivery`) and the Retry-After header
    /// (`target`).
    pub fn read(target: &JsValue, args: &js::Args<delivery::Layout>) -> Answer {
        let status = args.get(STATUS);
        let date_ms = args.raw(RETRY_DATE_MS);
        let retry_after_ms = target.as_string().and_then(|value| {
            backoff::parse_retry_after_seconds(&value)
                .or_else(|| date_ms.is_finite().then(|| date_ms.max(0.0) as u64))
        });
        Answer {
            request_id: args.get(REQUEST_ID) as u32,
            status: (status >= 1.0).then(|| status.min(999.0) as u16),
            retry_after_ms,
        }
    }
}

/// POSTs `body` (stamped) with fetch (outcome: `DISPATCH_DELIVERY` with `request_id`) or,
/// with `beacon`, sendBeacon (true when the browser accepted it).
pub fn send(endpoint: &str, body: &[u8], request_id: u32, beacon: bool) -> bool {
    js::send(endpoint, body, request_id, beacon)
}
