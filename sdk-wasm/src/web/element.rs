//! Describes a DOM element for an event: bounded selector, tag, id, allowlisted data-*
//! attributes, link target reduced to scheme/host/path, its page rectangle, and (only
//! when the site enables it) a little visible text. Never the value of form fields.

use alloc::{string::String, vec::Vec};

use web_sys::Element;

use super::env;
use crate::core::{
    config,
    event::{Element as ElementInfo, Pairs, Rect, set_pair},
    num::{round_i32, round_u32},
    selector, url,
};

/// Elements a click or hover is attributed to, when the target is inside one.
pub const INTERACTIVE: &str =
    "a,button,[data-track],[role=button],input,select,textarea,label,summary";

pub fn describe(element: &Element, data_attributes: &[String], with_text: bool) -> ElementInfo {
    let mut nodes = Vec::with_capacity(selector::MAX_DEPTH);
    let mut current = Some(element.clone());
    while let Some(node) = current {
        if nodes.len() == selector::MAX_DEPTH {
            break;
        }
        nodes.push(selector::Node {
            tag: node.tag_name(),
            id: node.id(),
            class: node.get_attribute("class").unwrap_or_default(),
        });
        current = node.parent_element();
    }
    let mut data = Pairs::new();
    for name in data_attributes {
        let mut attribute = String::from("data-");
        attribute.push_str(name);
        if let Some(value) = element.get_attribute(&attribute) {
            set_pair(
                &mut data,
                name.clone(),
                config::truncate(&value, config::MAX_VALUE_BYTES).into(),
            );
        }
    }
    let href = element
        .closest("a[href]")
        .ok()
        .flatten()
        .map(|link| url::origin_and_path(&env::get_string(&link, "href").unwrap_or_default()))
        .unwrap_or_default();
    let tag = element.tag_name().to_ascii_lowercase();
    let is_field = matches!(tag.as_str(), "input" | "textarea" | "select")
        || element.has_attribute("contenteditable");
    let text = if with_text && !is_field {
        let content = element.text_content().unwrap_or_default();
        config::truncate(content.trim_ascii(), config::MAX_TEXT_BYTES).into()
    } else {
        String::new()
    };
    ElementInfo {
        selector: selector::build(&nodes),
        tag,
        id: element.id(),
        data,
        href,
        text,
        rect: page_rect(element),
    }
}

/// The element's rectangle in page coordinates (one layout read).
pub fn page_rect(element: &Element) -> Rect {
    let rect = element.get_bounding_client_rect();
    let (scroll_x, scroll_y) = scroll_offset();
    Rect {
        x: round_i32(rect.x() + scroll_x),
        y: round_i32(rect.y() + scroll_y),
        width: round_u32(rect.width()),
        height: round_u32(rect.height()),
    }
}

pub fn scroll_offset() -> (f64, f64) {
    env::window().map_or((0.0, 0.0), |w| {
        (w.scroll_x().unwrap_or(0.0), w.scroll_y().unwrap_or(0.0))
    })
}

/// The element an event happened on: text nodes are attributed to their parent.
pub fn target_element(event: &web_sys::Event) -> Option<Element> {
    use wasm_bindgen::JsCast;
    let target = event.target()?;
    match target.dyn_into::<Element>() {
        Ok(element) => Some(element),
        Err(other) => other.dyn_into::<web_sys::Node>().ok()?.parent_element(),
    }
}
