//! Clicks: one delegated, capture-phase, passive listener on the document.

use crate::{
    boundary::click::{self, *},
    core::event::{Kind, Point},
};
use wasm_bindgen::JsValue;

use super::super::{Sdk, element, js::Args};

/// `target` is the clicked element; `args` in `boundary::click`'s layout.
pub fn on_click(sdk: &mut Sdk, target: &JsValue, args: &Args<click::Layout>) {
    if target.is_null() {
        return;
    }
    let page = Point {
        x: args.get(PAGE_X) as i32,
        y: args.get(PAGE_Y) as i32,
    };
    let viewport = Point {
        x: args.get(CLIENT_X) as i32,
        y: args.get(CLIENT_Y) as i32,
    };
    if sdk.cfg.ads {
        let synthetic = args.get(TRUSTED) == 0.0;
        super::super::ads::on_click(sdk, target, &page, &viewport, synthetic);
    }
    if !sdk.cfg.clicks {
        return;
    }
    let attributed =
        element::closest(target, element::INTERACTIVE).unwrap_or_else(|| target.clone());
    let info = element::describe(&attributed, &sdk.cfg.data_attributes, sdk.cfg.element_text);
    sdk.record(Kind::Click {
        element: &info,
        page,
        viewport,
        button: args.get(BUTTON).max(0.0) as u32,
    });
}
