//! Scroll depth: a passive listener that only asks for one animation frame; the frame
//! reads the position once (coalescing all scroll events of that frame).

use crate::core::event::{Kind, Scroll};
use alloc::vec::Vec;

use super::super::{Sdk, env, with_sdk};

pub fn on_scroll(sdk: &mut Sdk) {
    if !sdk.cfg.scroll || sdk.scroll_frame_pending {
        return;
    }
    let Some(window) = env::window() else { return };
    let callback = env::once(|| {
        with_sdk(|sdk| {
            sdk.scroll_frame_pending = false;
            observe(sdk);
        });
    });
    if window.request_animation_frame(&callback).is_ok() {
        sdk.scroll_frame_pending = true;
    }
}

/// Current (depth px, page height px).
pub fn measure() -> (u32, u32) {
    let Some(window) = env::window() else {
        return (0, 0);
    };
    let scroll_y = window.scroll_y().unwrap_or(0.0);
    let viewport = window
        .inner_height()
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let height = env::document()
        .and_then(|d| d.document_element())
        .map_or(0, |root| root.scroll_height().max(0)) as f64;
    ((scroll_y + viewport).max(0.0) as u32, height as u32)
}

fn observe(sdk: &mut Sdk) {
    let (depth, height) = measure();
    let crossed: Vec<u32> = sdk.scroll.observe(depth, height).collect();
    for milestone in crossed {
        let event = Scroll {
            max_depth_px: sdk.scroll.max_depth_px,
            max_depth_pct: sdk.scroll.max_depth_pct,
            milestone_pct: milestone,
            page_height: sdk.scroll.page_height,
        };
        sdk.record(Kind::Scroll(event));
    }
}

/// The page view's final summary (milestone 0), when the user scrolled at all.
pub fn summary(sdk: &mut Sdk) {
    if !sdk.cfg.scroll || sdk.scroll.max_depth_px == 0 {
        return;
    }
    let event = Scroll {
        max_depth_px: sdk.scroll.max_depth_px,
        max_depth_pct: sdk.scroll.max_depth_pct,
        milestone_pct: 0,
        page_height: sdk.scroll.page_height,
    };
    sdk.record(Kind::Scroll(event));
}
