//! Small wrappers over browser APIs that may be missing or throw: every one of them turns
//! a failure into a default instead of an exception in the host page.

use alloc::{boxed::Box, string::String, vec::Vec};
use js_sys::{Date, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{Document, Window};

pub fn window() -> Option<Window> {
    web_sys::window()
}

pub fn document() -> Option<Document> {
    window()?.document()
}

/// Wall clock, ms since the Unix epoch (what events carry).
pub fn now_ms() -> f64 {
    Date::now()
}

/// Monotonic clock for durations (dwell, viewability), falling back to the wall clock.
pub fn perf_ms() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map_or_else(now_ms, |p| p.now())
}

/// Reads `object[name]` as a string, if it is one.
pub fn get_string(object: &JsValue, name: &str) -> Option<String> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

pub fn get_f64(object: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_f64()
}

pub fn get_bool(object: &JsValue, name: &str) -> Option<bool> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .as_bool()
}

pub fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Runs `callback` once after `delay_ms` (0 = as soon as the current task and its
/// microtasks are done, i.e. off the interaction path).
pub fn set_timeout(delay_ms: f64, callback: impl FnOnce() + 'static) -> Option<i32> {
    set_timeout_boxed(delay_ms, Box::new(callback))
}

/// A JS function that runs `callback` once. Every timer and animation frame goes through
/// this one closure type: each distinct Rust closure handed to JS costs its own adapter
/// code in the wasm and the glue (about 0.4 KB gzip each).
pub fn once(callback: impl FnOnce() + 'static) -> Function {
    once_boxed(Box::new(callback))
}

#[inline(never)]
fn once_boxed(callback: Box<dyn FnOnce()>) -> Function {
    Closure::once_into_js(callback).unchecked_into()
}

#[inline(never)]
fn set_timeout_boxed(delay_ms: f64, callback: Box<dyn FnOnce()>) -> Option<i32> {
    let function = once_boxed(callback);
    let delay = delay_ms.clamp(0.0, 2_147_000_000.0) as i32;
    window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(&function, delay)
        .ok()
}

pub fn clear_timeout(handle: i32) {
    if let Some(window) = window() {
        window.clear_timeout_with_handle(handle);
    }
}

/// `console.error` with a fixed message (no formatting machinery in the wasm).
pub fn report(debug: bool, message: &str) {
    if debug {
        web_sys::console::error_2(
            &JsValue::from_str("sightline:"),
            &JsValue::from_str(message),
        );
    }
}

/// Whether the page is visible and focused: when ad time may accrue.
pub fn page_active() -> bool {
    document().is_some_and(|d| !d.hidden() && d.has_focus().unwrap_or(true))
}

/// Source of random ids: `crypto.getRandomValues`, drawn in blocks so an event costs one
/// copy, not one call into the browser.
pub struct Random {
    pool: [u8; 256],
    used: usize,
}

impl Random {
    pub fn new() -> Random {
        Random {
            pool: [0; 256],
            used: 256,
        }
    }

    pub fn id(&mut self) -> Vec<u8> {
        if self.used + 16 > self.pool.len() {
            self.refill();
        }
        let id = self
            .pool
            .get(self.used..self.used + 16)
            .unwrap_or_default()
            .to_vec();
        self.used += 16;
        id
    }

    pub fn hex_id(&mut self) -> String {
        crate::core::hex::encode(&self.id())
    }

    /// A number in 0..1 for backoff jitter (not security relevant).
    pub fn unit(&mut self) -> f64 {
        js_sys::Math::random()
    }

    fn refill(&mut self) {
        let filled = window()
            .and_then(|w| w.crypto().ok())
            .is_some_and(|crypto| {
                crypto
                    .get_random_values_with_u8_array(&mut self.pool)
                    .is_ok()
            });
        if !filled {
            // No Web Crypto (very old browser, odd embedding): ids only need to be unique.
            for byte in self.pool.iter_mut() {
                *byte = (js_sys::Math::random() * 256.0) as u8;
            }
        }
        self.used = 0;
    }
}
