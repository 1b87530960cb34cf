//! Page views: the first load, SPA navigations through `history.pushState` /
//! `replaceState` (hooked in `js/dom.js`; a new page view only when the URL changes) and
//! back/forward (`popstate`).

use crate::{
    boundary::{
        metrics::{self, *},
        text,
    },
    core::event::Context as PageContext,
};
use alloc::string::String;

use super::super::js::{self, Numbers};

/// The page metrics, read in one call (one layout read).
pub type Metrics = Numbers<metrics::Layout>;

/// The current location, unsanitized.
pub fn location_href() -> String {
    js::text(text::LOCATION)
}

pub fn referrer() -> String {
    js::text(text::REFERRER)
}

/// Document height in CSS px.
pub fn page_height() -> u32 {
    Metrics::read().dimension(PAGE_HEIGHT)
}

/// Page context for `url` and `referrer` (both already sanitized).
pub fn read_context(url: String, referrer: String) -> PageContext {
    let m = Metrics::read();
    let ratio = m.get(PIXEL_RATIO);
    PageContext {
        url,
        referrer,
        viewport_width: m.dimension(VIEWPORT_WIDTH),
        viewport_height: m.dimension(VIEWPORT_HEIGHT),
        screen_width: m.dimension(SCREEN_WIDTH),
        screen_height: m.dimension(SCREEN_HEIGHT),
        device_pixel_ratio: if ratio > 0.0 { ratio as f32 } else { 1.0 },
        locale: js::text(text::LANGUAGE),
        timezone_offset_min: m.get(TIMEZONE_OFFSET) as i32,
    }
}
