//! Hover dwell on trackable elements (links, buttons, [data-track], ad slots): the pointer
//! entering stores the element and a timestamp; leaving after the threshold gives one event.

use crate::core::event::Kind;
use alloc::string::String;
use wasm_bindgen::JsValue;

use super::super::{Sdk, element, env, js};

const TRACKABLE: &str = "a,button,[data-track]";

pub struct Hovering {
    element: JsValue,
    since_ms: f64,
}

fn trackable(sdk: &Sdk, target: &JsValue) -> Option<JsValue> {
    let mut selector = String::from(TRACKABLE);
    if sdk.cfg.ads {
        selector.push(',');
        selector.push_str(&sdk.cfg.ad_selector);
    }
    element::closest(target, &selector)
}

pub fn on_over(sdk: &mut Sdk, target: &JsValue) {
    if !sdk.cfg.hovers || target.is_null() {
        return;
    }
    let found = trackable(sdk, target);
    if let (Some(current), Some(found)) = (&sdk.hovering, &found) {
        if current.element == *found {
            return;
        }
    }
    end(sdk);
    sdk.hovering = found.map(|element| Hovering {
        element,
        since_ms: env::perf_ms(),
    });
}

/// The pointer left an element for `related` (null when it left the window).
pub fn on_out(sdk: &mut Sdk, related: &JsValue) {
    let Some(current) = &sdk.hovering else { return };
    if !related.is_null() && js::has(&current.element, related) {
        return;
    }
    end(sdk);
}

/// Ends the current hover, recording it when it lasted long enough.
pub fn end(sdk: &mut Sdk) {
    let Some(hovering) = sdk.hovering.take() else {
        return;
    };
    let dwell = env::perf_ms() - hovering.since_ms;
    if dwell < f64::from(sdk.cfg.hover_ms) {
        return;
    }
    let ad_slot_id = if sdk.cfg.ads {
        element::closest(&hovering.element, &sdk.cfg.ad_selector)
            .and_then(|slot| element::attribute(&slot, "data-ad-slot"))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let info = element::describe(
        &hovering.element,
        &sdk.cfg.data_attributes,
        sdk.cfg.element_text,
    );
    sdk.record(Kind::Hover {
        element: &info,
        dwell_ms: dwell as u32,
        ad_slot_id: &ad_slot_id,
    });
}
