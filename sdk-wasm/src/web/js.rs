//! The browser, as seen by the wasm: the few coarse functions of `js/dom.js` (shipped in
//! the package). Each call reads or starts something and returns numbers or a string; the
//! decisions stay in Rust.

use alloc::{string::String, vec::Vec};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/dom.js")]
extern "C" {
    /// Attaches listeners, history hooks, the flush interval and (with `ads`) the observers;
    /// every event then calls the export `dispatch::dispatch`.
    pub fn start(interval_ms: u32, ads: bool);
    pub fn stop();
    /// 0: the numbers of the event being dispatched; 1: page metrics (see `Metrics`);
    /// 2: [page visible and focused, Do-Not-Track or GPC] as 0/1; 3: [durable-queue
    /// evictions since the last call] (read and reset, see `storage::queue::take_evicted`).
    pub fn nums(which: u32) -> Vec<f64>;
    /// Date.now(), or performance.now() with `monotonic`.
    pub fn now(monotonic: bool) -> f64;
    /// 0: location.href, 1: document.referrer, 2: navigator.language.
    pub fn text(which: u32) -> String;
    /// 2: attribute `name`, 3: text content, 4: href of the enclosing link.
    pub fn el(element: &JsValue, which: u32, name: &str) -> Option<String>;
    /// Tag, id and class of `element` and its ancestors (see `element::describe`).
    pub fn path(element: &JsValue, depth: u32) -> String;
    /// `element.closest(selector)`, or the parent element when `selector` is empty.
    pub fn up(element: &JsValue, selector: &str) -> JsValue;
    /// `a.contains(b)`, or `a.isConnected` when `b` is null.
    pub fn has(a: &JsValue, b: &JsValue) -> bool;
    /// [x, y, width, height] in the viewport, then scrollX, scrollY.
    pub fn rect(element: &JsValue) -> Vec<f64>;
    pub fn scan(selector: &str) -> u32;
    pub fn item(index: u32) -> JsValue;
    pub fn watch(element: &JsValue, observe: bool);
    /// A timer dispatching `Timer` with [purpose, key] (negative delay: animation frame).
    pub fn timer(delay_ms: f64, purpose: u32, key: u32) -> i32;
    pub fn clear(handle: i32);
    pub fn rand() -> Vec<u8>;
    /// Storage operations, see `web::storage`.
    pub fn store(op: u32, key: &str, value: &str) -> Option<String>;
    /// The durable queue of undelivered batches, see `storage::queue`.
    pub fn queue(op: u32, body: &[u8], a: f64, b: f64) -> Option<Vec<u8>>;
    pub fn send(url: &str, body: &[u8], request_id: u32, beacon: bool) -> bool;
    pub fn log(message: &str);
    pub fn config(options: &JsValue) -> String;
    pub fn pairs(object: &JsValue, max: u32) -> Option<String>;
}

/// Page metrics read in one call.
pub struct Metrics(Vec<f64>);

impl Metrics {
    pub fn read() -> Metrics {
        Metrics(nums(1))
    }
    pub fn get(&self, index: usize) -> f64 {
        finite_or_zero(self.0.get(index))
    }
    pub fn dimension(&self, index: usize) -> u32 {
        self.get(index).max(0.0) as u32
    }
}

pub const VIEWPORT_WIDTH: usize = 0;
pub const VIEWPORT_HEIGHT: usize = 1;
pub const SCREEN_WIDTH: usize = 2;
pub const SCREEN_HEIGHT: usize = 3;
pub const PIXEL_RATIO: usize = 4;
pub const TIMEZONE_OFFSET: usize = 5;
pub const PAGE_HEIGHT: usize = 6;
pub const SCROLL_Y: usize = 8;

/// The numbers of the event being dispatched (0 where missing or not finite).
pub struct Args(Vec<f64>);

impl Args {
    pub fn read() -> Args {
        Args(nums(0))
    }
    pub fn get(&self, index: usize) -> f64 {
        finite_or_zero(self.0.get(index))
    }
    /// NaN stays distinguishable here (missing value).
    pub fn raw(&self, index: usize) -> f64 {
        self.0.get(index).copied().unwrap_or(f64::NAN)
    }
}

/// The number at `value`, or 0 when it is missing, NaN or infinite. One function shared by
/// `Metrics` and `Args`: the `copied/filter/unwrap_or` chain it replaces was inlined at every
/// call site (-96 B gzip).
fn finite_or_zero(value: Option<&f64>) -> f64 {
    match value {
        Some(v) if v.is_finite() => *v,
        _ => 0.0,
    }
}
