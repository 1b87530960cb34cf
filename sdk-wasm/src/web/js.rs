//! The browser, as seen by the wasm: the few coarse functions of `js/dom.js` (shipped in
//! the package). Each call reads or starts something and returns numbers or a string; the
//! decisions stay in Rust. The codes and positions passed across are `crate::boundary`'s
//! (`tests/boundary.rs` checks that `js/dom.js` exports these functions with these
//! parameters, in this order).

use alloc::{string::String, vec::Vec};
use core::marker::PhantomData;
use wasm_bindgen::prelude::*;

use crate::boundary::{At, FromNums, sep};

#[wasm_bindgen(module = "/js/dom.js")]
extern "C" {
    /// Attaches listeners, history hooks, the flush interval and (with `ads`) the observers;
    /// every event then calls the export `dispatch::dispatch`.
    pub fn start(interval_ms: u32, ads: bool);
    pub fn stop();
    /// `boundary::nums`: the numbers of the event being dispatched, page metrics, page
    /// state, durable-queue evictions (read and reset). Read them with [`Numbers`].
    pub fn nums(which: u32) -> Vec<f64>;
    /// Date.now(), or performance.now() with `monotonic`.
    pub fn now(monotonic: bool) -> f64;
    /// `boundary::text`: location, referrer, language.
    pub fn text(which: u32) -> String;
    /// `boundary::el`: attribute `name`, text content, href of the enclosing link.
    pub fn el(element: &JsValue, which: u32, name: &str) -> Option<String>;
    /// Tag, id and class of `element` and its ancestors (see `element::describe`).
    pub fn path(element: &JsValue, depth: u32) -> String;
    /// `element.closest(selector)`, or the parent element when `selector` is empty.
    pub fn up(element: &JsValue, selector: &str) -> JsValue;
    /// `a.contains(b)`, or `a.isConnected` when `b` is null.
    pub fn has(a: &JsValue, b: &JsValue) -> bool;
    /// `boundary::rect`: the viewport rectangle and scroll offset (read with [`Numbers`]).
    pub fn rect(element: &JsValue) -> Vec<f64>;
    pub fn scan(selector: &str) -> u32;
    pub fn item(index: u32) -> JsValue;
    pub fn watch(element: &JsValue, observe: bool);
    /// A timer dispatching `TIMER` with `boundary::timer` [purpose, key] (negative delay:
    /// `ANIMATION_FRAME` at the next animation frame).
    pub fn timer(delay_ms: f64, purpose: u32, key: u32) -> i32;
    pub fn clear(handle: i32);
    pub fn rand() -> Vec<u8>;
    /// `boundary::store` operations, see `web::storage`.
    pub fn store(op: u32, key: &str, value: &str) -> Option<String>;
    /// `boundary::queue` operations on the durable queue, see `storage::queue`.
    pub fn queue(op: u32, body: &[u8], a: f64, b: f64) -> Option<Vec<u8>>;
    pub fn send(url: &str, body: &[u8], request_id: u32, beacon: bool) -> bool;
    /// `boundary::report`: `console.error` of the code's text (loads `js/modules/debug.js`).
    pub fn log(code: u32);
    /// `init` options flattened: the strings of `boundary::config_text` joined by
    /// `sep::FIELD`; the numbers of `boundary::config_numbers` left for `nums(EVENT)`.
    pub fn config(options: &JsValue) -> String;
    /// A plain object's entries (see `api::entries`); numbers left for `nums(EVENT)`.
    pub fn pairs(object: &JsValue, max: u32) -> Option<String>;
}

/// Numbers JS handed over in one array, read by their `boundary` position (0 where missing
/// or not finite).
pub struct Numbers<L>(Vec<f64>, PhantomData<L>);

impl<L: FromNums> Numbers<L> {
    /// `nums(L::WHICH)`: the event's numbers, the page metrics, …
    pub fn read() -> Numbers<L> {
        Numbers(nums(L::WHICH), PhantomData)
    }
}

impl<L> Numbers<L> {
    /// Numbers returned by a call of their own (`rect`).
    pub fn from(values: Vec<f64>) -> Numbers<L> {
        Numbers(values, PhantomData)
    }

    pub fn get(&self, at: At<L>) -> f64 {
        finite_or_zero(self.0.get(at.index()))
    }

    /// NaN stays distinguishable here (missing value).
    pub fn raw(&self, at: At<L>) -> f64 {
        self.0.get(at.index()).copied().unwrap_or(f64::NAN)
    }

    pub fn dimension(&self, at: At<L>) -> u32 {
        self.get(at).max(0.0) as u32
    }
}

/// The numbers of the event being dispatched, in the layout of its kind.
pub type Args<L> = Numbers<L>;

/// The number at `value`, or 0 when it is missing, NaN or infinite. One function shared by
/// every layout: the `copied/filter/unwrap_or` chain it replaces was inlined at every call
/// site (-96 B gzip).
fn finite_or_zero(value: Option<&f64>) -> f64 {
    match value {
        Some(v) if v.is_finite() => *v,
        _ => 0.0,
    }
}

/// Strings JS joined by `sep::FIELD` in one call (`config`), read by `boundary` position.
pub struct Strings<'a, L>(&'a str, PhantomData<L>);

impl<'a, L> Strings<'a, L> {
    pub fn new(joined: &'a str) -> Strings<'a, L> {
        Strings(joined, PhantomData)
    }

    /// The string at `at` (`sep::MISSING` when there is none).
    pub fn get(&self, at: At<L>) -> &'a str {
        crate::core::text::parts(self.0, sep::FIELD)
            .nth(at.index())
            .unwrap_or(MISSING)
    }
}

/// What `config` puts in place of a missing or non-string option.
pub const MISSING: &str = "\u{2}";
const _: () = assert!(MISSING.as_bytes()[0] == sep::MISSING);
