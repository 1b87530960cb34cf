//! Scroll depth: a passive listener that only asks for one animation frame; the frame
//! reads the position once (coalescing all scroll events of that frame).

use crate::core::event::{Kind, Scroll};

use super::{super::js, page::Metrics};
use crate::boundary::metrics::{PAGE_HEIGHT, SCROLL_Y, VIEWPORT_HEIGHT};
use crate::web::Sdk;

/// Timer purpose meaning "animation frame" for `env::set_timeout`'s JS side.
const ANIMATION_FRAME: f64 = -1.0;

pub fn on_scroll(sdk: &mut Sdk) {
    if !sdk.cfg.scroll || sdk.scroll_frame_pending {
        return;
    }
    js::timer(ANIMATION_FRAME, 0, 0);
    sdk.scroll_frame_pending = true;
}

/// The animation frame requested by `on_scroll`.
pub fn on_frame(sdk: &mut Sdk) {
    sdk.scroll_frame_pending = false;
    observe(sdk);
}

/// Current (depth px, page height px).
pub fn measure() -> (u32, u32) {
    let m = Metrics::read();
    let depth = (m.get(SCROLL_Y) + m.get(VIEWPORT_HEIGHT)).max(0.0) as u32;
    (depth, m.dimension(PAGE_HEIGHT))
}

fn observe(sdk: &mut Sdk) {
    let (depth, height) = measure();
    // The iterator does not borrow `sdk.scroll` (`use<>`), so events are recorded as it runs.
    for milestone in sdk.scroll.observe(depth, height) {
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
