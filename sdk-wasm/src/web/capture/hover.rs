//! Hover dwell on trackable elements (links, buttons, [data-track], ad slots): the pointer
//! entering stores the element and a timestamp; leaving after the threshold gives one event.

use crate::core::event::Kind;
use alloc::string::String;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, MouseEvent, Node};

use super::super::{Sdk, element, env};

const TRACKABLE: &str = "a,button,[data-track]";

pub struct Hovering {
    element: Element,
    since_ms: f64,
}

fn trackable(sdk: &Sdk, target: &Element) -> Option<Element> {
    let mut selector = String::from(TRACKABLE);
    if sdk.cfg.ads {
        selector.push(',');
        selector.push_str(&sdk.cfg.ad_selector);
    }
    target.closest(&selector).ok().flatten()
}

pub fn on_over(sdk: &mut Sdk, event: &Event) {
    if !sdk.cfg.hovers {
        return;
    }
    let Some(target) = element::target_element(event) else {
        return;
    };
    let found = trackable(sdk, &target);
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

pub fn on_out(sdk: &mut Sdk, event: &Event) {
    let Some(current) = &sdk.hovering else { return };
    let related = event
        .dyn_ref::<MouseEvent>()
        .and_then(|m| m.related_target())
        .and_then(|t| t.dyn_into::<Node>().ok());
    let node: &Node = current.element.as_ref();
    if related.is_some_and(|related| node.contains(Some(&related))) {
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
        hovering
            .element
            .closest(&sdk.cfg.ad_selector)
            .ok()
            .flatten()
            .and_then(|slot| slot.get_attribute("data-ad-slot"))
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
        element: info,
        dwell_ms: dwell as u32,
        ad_slot_id,
    });
}
