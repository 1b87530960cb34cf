//! Clicks: one delegated, capture-phase, passive listener on the document.

use crate::core::event::{Kind, Point};
use wasm_bindgen::JsCast;
use web_sys::{Event, MouseEvent};

use super::super::{Sdk, element};

pub fn on_click(sdk: &mut Sdk, event: &Event) {
    let Some(mouse) = event.dyn_ref::<MouseEvent>() else {
        return;
    };
    let Some(target) = element::target_element(event) else {
        return;
    };
    let page = Point {
        x: mouse.page_x(),
        y: mouse.page_y(),
    };
    let viewport = Point {
        x: mouse.client_x(),
        y: mouse.client_y(),
    };
    if sdk.cfg.ads {
        super::super::ads::on_click(sdk, &target, &page, &viewport);
    }
    if !sdk.cfg.clicks {
        return;
    }
    let attributed = target
        .closest(element::INTERACTIVE)
        .ok()
        .flatten()
        .unwrap_or(target);
    let info = element::describe(&attributed, &sdk.cfg.data_attributes, sdk.cfg.element_text);
    sdk.record(Kind::Click {
        element: info,
        page,
        viewport,
        button: mouse.button().max(0) as u32,
    });
}
