//! Page views: the first load, SPA navigations through `history.pushState` /
//! `replaceState` (hooked in `js/dom.js`; a new page view only when the URL changes) and
//! back/forward (`popstate`).

use crate::core::event::Context as PageContext;
use alloc::string::String;

use super::super::js::{self, Metrics};

/// The current location, unsanitized.
pub fn location_href() -> String {
    js::text(0)
}

pub fn referrer() -> String {
    js::text(1)
}

/// Document height in CSS px.
pub fn page_height() -> u32 {
    Metrics::read().dimension(js::PAGE_HEIGHT)
}

/// Page context for `url` and `referrer` (both already sanitized).
pub fn read_context(url: String, referrer: String) -> PageContext {
    let m = Metrics::read();
    let ratio = m.get(js::PIXEL_RATIO);
    PageContext {
        url,
        referrer,
        viewport_width: m.dimension(js::VIEWPORT_WIDTH),
        viewport_height: m.dimension(js::VIEWPORT_HEIGHT),
        screen_width: m.dimension(js::SCREEN_WIDTH),
        screen_height: m.dimension(js::SCREEN_HEIGHT),
        device_pixel_ratio: if ratio > 0.0 { ratio as f32 } else { 1.0 },
        locale: js::text(2),
        timezone_offset_min: m.get(js::TIMEZONE_OFFSET) as i32,
    }
}
