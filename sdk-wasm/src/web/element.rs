//! Describes a DOM element for an event: bounded selector, tag, id, allowlisted data-*
//! attributes, link target reduced to scheme/host/path, its page rectangle, and (only
//! when the site enables it) a little visible text. Never the value of form fields.
//! `js/dom.js` reads the raw strings; the bounds and the assembly are here.

use alloc::{string::String, vec::Vec};
use wasm_bindgen::JsValue;

use super::js::{self, Numbers};
use crate::boundary::{
    el::{ATTRIBUTE, HIDDEN, LINK_HREF, TEXT},
    rect::{self as layout, HEIGHT, SCROLL_X, SCROLL_Y, WIDTH, X, Y},
    sep,
};
use crate::core::{
    config,
    event::{Element as ElementInfo, Pairs, Rect, set_pair},
    num::{round_i32, round_u32},
    selector, url,
};

/// Elements a click or hover is attributed to, when the target is inside one.
pub const INTERACTIVE: &str =
    "a,button,[data-track],[role=button],input,select,textarea,label,summary";

pub fn attribute(element: &JsValue, name: &str) -> Option<String> {
    js::el(element, ATTRIBUTE, name)
}

fn read(element: &JsValue, which: u32) -> String {
    js::el(element, which, "").unwrap_or_default()
}

/// CSS hides `element` (`boundary::el::HIDDEN`): an invalid-traffic signal for ad slots.
pub fn css_hidden(element: &JsValue) -> bool {
    js::el(element, HIDDEN, "").is_some()
}

/// `element.closest(selector)`, if any.
pub fn closest(element: &JsValue, selector: &str) -> Option<JsValue> {
    let found = js::up(element, selector);
    (!found.is_null()).then_some(found)
}

/// The enclosing link's target as scheme/host/path (empty outside links).
pub fn link_target(element: &JsValue) -> String {
    js::el(element, LINK_HREF, "")
        .map(|href| url::origin_and_path(&href))
        .unwrap_or_default()
}

pub fn describe(element: &JsValue, data_attributes: &[String], with_text: bool) -> ElementInfo {
    // "TAG\0id\0class" per element, from the element outwards, joined by \1.
    let path = js::path(element, selector::MAX_DEPTH as u32);
    let mut nodes: Vec<selector::Node> = Vec::new();
    for node in crate::core::text::parts(&path, sep::RECORD) {
        if node.is_empty() {
            continue;
        }
        let mut fields = crate::core::text::parts(node, sep::FIELD);
        let mut next = || fields.next().unwrap_or_default();
        nodes.push(selector::Node {
            tag: next(),
            id: next(),
            class: next(),
        });
    }
    let mut data = Pairs::new();
    for name in data_attributes {
        let mut name_with_prefix = String::from("data-");
        name_with_prefix.push_str(name);
        if let Some(value) = attribute(element, &name_with_prefix) {
            set_pair(
                &mut data,
                name.clone(),
                config::truncate(&value, config::MAX_VALUE_BYTES).into(),
            );
        }
    }
    let target = nodes.first().copied().unwrap_or_default();
    let is_field = matches!(target.tag, "input" | "textarea" | "select")
        || attribute(element, "contenteditable").is_some();
    let text = if with_text && !is_field {
        let content = read(element, TEXT);
        config::truncate(content.trim_ascii(), config::MAX_TEXT_BYTES).into()
    } else {
        String::new()
    };
    ElementInfo {
        selector: selector::build(&nodes),
        tag: target.tag.into(),
        id: target.id.into(),
        data,
        href: link_target(element),
        text,
        rect: page_rect(element).0,
    }
}

/// The element's rectangle in page coordinates and its viewport origin (one layout read).
pub fn page_rect(element: &JsValue) -> (Rect, (f64, f64)) {
    let r = Numbers::<layout::Layout>::from(js::rect(element));
    let rect = Rect {
        x: round_i32(r.get(X) + r.get(SCROLL_X)),
        y: round_i32(r.get(Y) + r.get(SCROLL_Y)),
        width: round_u32(r.get(WIDTH)),
        height: round_u32(r.get(HEIGHT)),
    };
    (rect, (r.get(X), r.get(Y)))
}
