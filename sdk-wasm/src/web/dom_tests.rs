//! DOM capture against a real document (wasm-bindgen-test in headless Chromium, run by
//! `scripts/test-wasm.sh`): what a click or hover records about its element, read through
//! the same `js/dom.js` functions the shipped SDK uses.

use alloc::{string::String, vec, vec::Vec};

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

use super::element;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document in the test page")
}

/// Mounts `html` in a fresh container and returns the element matching `selector`.
fn mount(html: &str, selector: &str) -> (web_sys::Element, web_sys::Element) {
    let document = document();
    let holder = document.create_element("div").expect("div");
    holder.set_inner_html(html);
    document
        .body()
        .expect("body")
        .append_child(&holder)
        .expect("append");
    let found = holder
        .query_selector(selector)
        .expect("valid selector")
        .expect("element present");
    (holder, found)
}

fn allowlist(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| String::from(*n)).collect()
}

#[wasm_bindgen_test]
fn a_link_is_described_by_path_allowlisted_data_and_reduced_target() {
    let (holder, link) = mount(
        r#"<nav id="top"><ul class="menu main"><li><a class="cta"
             href="https://user:pw@example.edu/courses/cs101?q=secret#syllabus"
             data-course="cs101" data-secret="token">Intro</a><a id="go">Go</a></li></ul></nav>"#,
        "a.cta",
    );
    let info = element::describe(link.as_ref(), &allowlist(&["course"]), false);
    assert_eq!(info.tag, "a");
    assert_eq!(info.id, "");
    // From the element outwards up to the nearest id, which is unique.
    assert_eq!(info.selector, "nav#top>ul.menu.main>li>a.cta");
    let with_id = holder.query_selector("#go").expect("query").expect("link");
    let anchored = element::describe(with_id.as_ref(), &[], false);
    assert_eq!(
        (anchored.selector.as_str(), anchored.id.as_str()),
        ("a#go", "go")
    );
    // Only allowlisted data-* attributes; the query, fragment and credentials never leave.
    assert_eq!(info.data, vec![("course".into(), "cs101".into())]);
    assert_eq!(info.href, "https://example.edu/courses/cs101");
    // Element text is off by default.
    assert_eq!(info.text, "");
    holder.remove();
}

#[wasm_bindgen_test]
fn form_fields_never_give_their_value_or_text() {
    let (holder, field) = mount(
        r#"<form><textarea id="essay">my private essay</textarea>
           <input id="email" value="student@example.edu"></form>"#,
        "#essay",
    );
    // Even with element text enabled, a field's content is not read.
    let info = element::describe(field.as_ref(), &[], true);
    assert_eq!(info.tag, "textarea");
    assert_eq!(info.text, "");
    let input = holder
        .query_selector("#email")
        .expect("query")
        .expect("input");
    let info = element::describe(input.as_ref(), &[], true);
    assert_eq!(info.text, "");
    assert!(!info.selector.contains("student"));
    holder.remove();
}

#[wasm_bindgen_test]
fn element_text_when_enabled_is_trimmed_and_bounded() {
    let long = "x".repeat(10_000);
    let (holder, button) = mount(
        &alloc::format!(r#"<button id="b">  Apply now {long}</button>"#),
        "#b",
    );
    let info = element::describe(button.as_ref(), &[], true);
    assert!(info.text.starts_with("Apply now x"));
    assert!(info.text.len() <= crate::core::config::MAX_TEXT_BYTES);
    holder.remove();
}

#[wasm_bindgen_test]
fn a_click_inside_a_button_is_attributed_to_the_button() {
    let (holder, icon) = mount(
        r#"<div class="card"><button id="save" data-track="save"><span class="icon">*</span>
           </button></div>"#,
        ".icon",
    );
    let icon: &JsValue = icon.as_ref();
    let attributed = element::closest(icon, element::INTERACTIVE).expect("inside a button");
    let button: web_sys::Element = attributed.dyn_into().expect("an element");
    assert_eq!(button.id(), "save");
    // Outside any interactive element there is nothing to attribute to.
    let card = holder
        .query_selector(".card")
        .expect("query")
        .expect("card");
    assert!(element::closest(card.as_ref(), element::INTERACTIVE).is_none());
    holder.remove();
}

#[wasm_bindgen_test]
fn rectangles_are_in_page_coordinates_after_scrolling() {
    let (holder, target) = mount(
        r#"<div style="height:3000px;position:relative">
             <div id="slot" style="position:absolute;left:40px;top:1800px;width:300px;height:250px"></div>
           </div>"#,
        "#slot",
    );
    let window = web_sys::window().expect("window");
    window.scroll_to_with_x_and_y(0.0, 1000.0);
    let scroll_y = window.scroll_y().expect("scrollY");
    assert!(scroll_y > 0.0, "the test page scrolls");
    let client = target.get_bounding_client_rect();
    let (rect, viewport_origin) = element::page_rect(target.as_ref());
    assert_eq!(rect.width, 300);
    assert_eq!(rect.height, 250);
    assert_eq!(rect.y, (client.top() + scroll_y).round() as i32);
    assert_eq!(
        rect.x,
        (client.left() + window.scroll_x().expect("scrollX")).round() as i32
    );
    assert_eq!(viewport_origin.1, client.top());
    // Scrolling changes the viewport position, not the page position.
    window.scroll_to_with_x_and_y(0.0, 0.0);
    let (again, moved) = element::page_rect(target.as_ref());
    assert_eq!(again.y, rect.y);
    assert!(moved.1 > viewport_origin.1);
    holder.remove();
}
