//! Page views: the first load, SPA navigations through `history.pushState` /
//! `replaceState` (only when the sanitized URL changes) and back/forward (`popstate`).

use crate::core::event::{Context as PageContext, Navigation};
use alloc::{string::String, vec::Vec};
use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};

use super::super::{env, with_sdk};

/// A replacement for `pushState`/`replaceState` (state, title, url) -> result.
type HistoryWrapper = Closure<dyn FnMut(JsValue, JsValue, JsValue) -> JsValue>;

/// The patched history methods and their originals, restored by `shutdown()`.
pub struct HistoryPatch {
    originals: Vec<(&'static str, Function)>,
    _wrappers: Vec<HistoryWrapper>,
}

/// Wraps `history.pushState` and `history.replaceState` so SPA navigations are seen.
pub fn patch_history() -> Option<HistoryPatch> {
    let history: JsValue = env::window()?.history().ok()?.into();
    let mut patch = HistoryPatch {
        originals: Vec::new(),
        _wrappers: Vec::new(),
    };
    for name in ["pushState", "replaceState"] {
        let Ok(original) = env::get(&history, name).dyn_into::<Function>() else {
            continue;
        };
        let call = original.clone();
        let this = history.clone();
        let wrapper = HistoryWrapper::new(move |state, title, url| {
            let result = match call.call3(&this, &state, &title, &url) {
                Ok(result) => result,
                // The host's own error (e.g. a cross-origin URL): theirs to see, unchanged.
                Err(error) => wasm_bindgen::throw_val(error),
            };
            with_sdk(|sdk| sdk.on_url_change(Navigation::Push));
            result
        });
        if Reflect::set(&history, &JsValue::from_str(name), wrapper.as_ref()).is_ok() {
            patch.originals.push((name, original));
            patch._wrappers.push(wrapper);
        }
    }
    Some(patch)
}

impl HistoryPatch {
    pub fn restore(&self) {
        let Some(history) = env::window().and_then(|w| w.history().ok()) else {
            return;
        };
        for (name, original) in &self.originals {
            let _ = Reflect::set(&history, &JsValue::from_str(name), original);
        }
    }
}

/// The current location, unsanitized.
pub fn location_href() -> String {
    env::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Document height in CSS px.
pub fn page_height() -> u32 {
    env::document()
        .and_then(|d| d.document_element())
        .map_or(0, |root| root.scroll_height().max(0) as u32)
}

/// Page context for `url` and `referrer` (both already sanitized).
pub fn read_context(url: String, referrer: String) -> PageContext {
    let window = env::window();
    let dimension =
        |value: Option<JsValue>| value.and_then(|v| v.as_f64()).unwrap_or(0.0).max(0.0) as u32;
    let (viewport_width, viewport_height) = match &window {
        Some(w) => (
            dimension(w.inner_width().ok()),
            dimension(w.inner_height().ok()),
        ),
        None => (0, 0),
    };
    let screen = window.as_ref().and_then(|w| w.screen().ok());
    let (screen_width, screen_height) = match &screen {
        Some(s) => (
            s.width().unwrap_or(0).max(0) as u32,
            s.height().unwrap_or(0).max(0) as u32,
        ),
        None => (0, 0),
    };
    PageContext {
        url,
        referrer,
        viewport_width,
        viewport_height,
        screen_width,
        screen_height,
        device_pixel_ratio: window.as_ref().map_or(1.0, |w| w.device_pixel_ratio()) as f32,
        locale: window
            .as_ref()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default(),
        timezone_offset_min: -(js_sys::Date::new_0().get_timezone_offset() as i32),
    }
}
