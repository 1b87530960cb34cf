//! Ad slots (issue 5): one IntersectionObserver with thresholds (created in `js/dom.js`)
//! feeds the viewability state machine in `core::viewability`; a MutationObserver picks up
//! slots added or removed later. Layout is read only from IntersectionObserver entries
//! (computed by the browser anyway; the page height once per observer callback) and on
//! click. Timers run only while an ad is in view.

use alloc::{string::String, vec::Vec};
use wasm_bindgen::JsValue;

use super::{Sdk, element, env, js, timers};

use crate::boundary::intersection as io;
use crate::core::{
    event::{Ad, AdClick, AdImpression, Kind, Phase, Point, Rect},
    num::{round_i32, round_u32},
    schema::{actual_visibility, viewability_rule},
    viewability::{Rule, Viewability},
};

struct Slot {
    key: u32,
    element: JsValue,
    ad: Ad,
    impression_id: Vec<u8>,
    state: Option<Viewability>,
    first_page_rect: Option<Rect>,
    first_viewport_rect: Option<Rect>,
    viewport: (u32, u32),
    page_height: u32,
    /// Set once the ad was seen with a visible fraction above zero.
    seen: bool,
    viewable_sent: bool,
    timer: Option<i32>,
}

#[derive(Default)]
pub struct Ads {
    slots: Vec<Slot>,
    next_key: u32,
}

impl Ads {
    pub fn clear(&mut self) {
        for slot in &mut self.slots {
            if let Some(timer) = slot.timer.take() {
                env::clear_timeout(timer);
            }
        }
        self.slots.clear();
    }
}

fn attribute(element: &JsValue, name: &str) -> String {
    element::attribute(element, name).unwrap_or_default()
}

fn rect_at(x: f64, y: f64, width: f64, height: f64) -> Rect {
    Rect {
        x: round_i32(x),
        y: round_i32(y),
        width: round_u32(width),
        height: round_u32(height),
    }
}

/// Starts tracking the slots of a new page view. The scan runs in the next task, not now:
/// on an SPA navigation the router usually replaces the old page's slots right after
/// `pushState`, and scanning now would give those outgoing slots a second, never-measured
/// impression in the new page view. Slots still on the page then (or added later, via the
/// MutationObserver) are the new page view's.
pub fn start_page_view() {
    env::set_timeout(0.0, timers::AD_SCAN, 0);
}

/// The deferred scan of `start_page_view`.
pub fn on_scan_timer(sdk: &mut Sdk) {
    if sdk.cfg.ads && sdk.capturing() {
        scan(sdk);
    }
}

/// Adds slots not tracked yet (all of them at a page view start).
fn scan(sdk: &mut Sdk) {
    let count = js::scan(&sdk.cfg.ad_selector);
    for index in 0..count {
        let element = js::item(index);
        if element.is_null() {
            continue;
        }
        if sdk.ads.slots.iter().any(|slot| slot.element == element) {
            continue;
        }
        let key = sdk.ads.next_key;
        sdk.ads.next_key = sdk.ads.next_key.wrapping_add(1);
        let ad = Ad {
            slot_id: attribute(&element, "data-ad-slot"),
            creative_id: attribute(&element, "data-ad-creative"),
            campaign_id: attribute(&element, "data-ad-campaign"),
            placement_id: attribute(&element, "data-ad-placement"),
            decision_id: attribute(&element, "data-ad-decision"),
            decision_policy: attribute(&element, "data-ad-policy"),
            decision_variant: attribute(&element, "data-ad-variant"),
            width: 0,
            height: 0,
        };
        js::watch(&element, true);
        sdk.ads.slots.push(Slot {
            key,
            element,
            ad,
            impression_id: sdk.io.random.id(),
            state: None,
            first_page_rect: None,
            first_viewport_rect: None,
            viewport: (0, 0),
            page_height: 0,
            seen: false,
            viewable_sent: false,
            timer: None,
        });
    }
}

pub fn on_mutations(sdk: &mut Sdk) {
    if !sdk.cfg.ads {
        return;
    }
    // Removed slots end their impression now.
    let mut index = 0;
    while index < sdk.ads.slots.len() {
        if js::has(&sdk.ads.slots[index].element, &JsValue::NULL) {
            index += 1;
            continue;
        }
        let mut slot = sdk.ads.slots.remove(index);
        js::watch(&slot.element, false);
        // A slot removed before the browser ever measured it was never an impression.
        let measured = slot.state.is_some();
        let finals = finish(&mut slot, env::perf_ms());
        if measured {
            sdk.record(finals);
        }
    }
    scan(sdk);
}

/// One IntersectionObserver entry for `target`, `args` in `boundary::intersection`'s layout.
pub fn on_entry(sdk: &mut Sdk, target: &JsValue, args: &js::Args<io::Layout>) {
    let Some(slot) = sdk
        .ads
        .slots
        .iter_mut()
        .find(|slot| slot.element == *target)
    else {
        return;
    };
    let now = args.get(io::TIME);
    let ratio = args.get(io::RATIO);
    let (x, y) = (args.get(io::X), args.get(io::Y));
    let (width, height) = (args.get(io::WIDTH), args.get(io::HEIGHT));
    if slot.state.is_none() {
        slot.state = Some(Viewability::new(
            Rule::for_size(width, height),
            env::page_active(),
        ));
        slot.ad.width = round_u32(width);
        slot.ad.height = round_u32(height);
    }
    // Rectangles at first sight (or at first observation, for ads never seen).
    if slot.first_page_rect.is_none() || (!slot.seen && ratio > 0.0) {
        let (scroll_x, scroll_y) = (args.get(io::SCROLL_X), args.get(io::SCROLL_Y));
        slot.first_page_rect = Some(rect_at(x + scroll_x, y + scroll_y, width, height));
        slot.first_viewport_rect = Some(rect_at(x, y, width, height));
        slot.viewport = (
            args.dimension(io::ROOT_WIDTH),
            args.dimension(io::ROOT_HEIGHT),
        );
        slot.page_height = args.dimension(io::PAGE_HEIGHT);
    }
    slot.seen |= ratio > 0.0;
    let visible = match args.get(io::IS_VISIBLE) as i32 {
        1 => Some(true),
        0 => Some(false),
        _ => None,
    };
    let key = slot.key;
    let became = slot
        .state
        .as_mut()
        .is_some_and(|state| state.set_fraction(now, ratio, visible));
    settle(sdk, if became { alloc::vec![key] } else { Vec::new() });
}

/// Sends VIEWABLE for the slots in `became` and (re)arms the viewability timers.
fn settle(sdk: &mut Sdk, became: Vec<u32>) {
    // Out of `sdk` while events borrowing them are recorded.
    let mut slots = core::mem::take(&mut sdk.ads.slots);
    for slot in &mut slots {
        if became.contains(&slot.key) && !slot.viewable_sent {
            slot.viewable_sent = true;
            sdk.record(impression(slot, Phase::Viewable, env::perf_ms()));
        }
        let due = slot.state.as_ref().and_then(|state| state.viewable_due());
        match (due, slot.timer) {
            (Some(due), None) => {
                slot.timer =
                    env::set_timeout(due - env::perf_ms() + 1.0, timers::AD_VIEWABILITY, slot.key);
            }
            (None, Some(timer)) => {
                env::clear_timeout(timer);
                slot.timer = None;
            }
            _ => {}
        }
    }
    sdk.ads.slots = slots;
}

/// The viewability timer of slot `key`.
pub fn tick(sdk: &mut Sdk, key: u32) {
    let now = env::perf_ms();
    let mut became = Vec::new();
    if let Some(slot) = sdk.ads.slots.iter_mut().find(|slot| slot.key == key) {
        slot.timer = None;
        if slot.state.as_mut().is_some_and(|state| state.tick(now)) {
            became.push(key);
        }
    }
    settle(sdk, became);
}

/// Page visibility or focus changed.
pub fn set_page_active(sdk: &mut Sdk, active: bool) {
    if !sdk.cfg.ads {
        return;
    }
    let now = env::perf_ms();
    let mut became = Vec::new();
    for slot in &mut sdk.ads.slots {
        if slot
            .state
            .as_mut()
            .is_some_and(|state| state.set_page_active(now, active))
        {
            became.push(slot.key);
        }
    }
    settle(sdk, became);
}

fn impression(slot: &mut Slot, phase: Phase, now: f64) -> Kind<'_> {
    let (totals, rule, actual) = match slot.state.as_mut() {
        Some(state) => {
            let actual = match state.actually_visible {
                Some(true) => actual_visibility::VISIBLE,
                Some(false) => actual_visibility::OBSCURED,
                None => actual_visibility::UNKNOWN,
            };
            let rule = match state.rule {
                Rule::Display50 => viewability_rule::DISPLAY_50,
                Rule::Large30 => viewability_rule::LARGE_30,
            };
            (Some(state.totals(now)), rule, actual)
        }
        None => (
            None,
            viewability_rule::UNSPECIFIED,
            actual_visibility::UNKNOWN,
        ),
    };
    let measurable = slot.ad.width > 0 && slot.ad.height > 0;
    Kind::AdImpression(AdImpression {
        ad: &slot.ad,
        impression_id: &slot.impression_id,
        phase: phase as u32,
        page_rect: slot.first_page_rect,
        viewport_rect: slot.first_viewport_rect,
        viewport_width: slot.viewport.0,
        viewport_height: slot.viewport.1,
        page_height: slot.page_height,
        max_visible_fraction: totals.map_or(0.0, |t| t.max_fraction as f32),
        in_view_ms: totals.map_or(0, |t| t.in_view_ms as u32),
        max_continuous_in_view_ms: totals.map_or(0, |t| t.max_continuous_ms as u32),
        viewable: totals.is_some_and(|t| t.viewable),
        rule,
        measurable,
        actual_visibility: actual,
        time_to_viewable_ms: totals.map_or(0, |t| t.time_to_viewable_ms as u32),
        // When the row is recorded ("at impression time"): a slot fading in from opacity 0
        // is visible by the time it is viewable, a slot hidden all along is hidden then too.
        hidden: element::css_hidden(&slot.element),
    })
}

fn finish(slot: &mut Slot, now: f64) -> Kind<'_> {
    if let Some(timer) = slot.timer.take() {
        env::clear_timeout(timer);
    }
    impression(slot, Phase::Final, now)
}

/// FINAL impressions for every slot of the ending page view; the next page view starts
/// fresh impressions for the slots still on the page.
pub fn end_page_view(sdk: &mut Sdk) {
    let now = env::perf_ms();
    let mut slots = core::mem::take(&mut sdk.ads.slots);
    for slot in &mut slots {
        js::watch(&slot.element, false);
        let kind = finish(slot, now);
        sdk.record(kind);
    }
}

/// A click inside an ad slot.
pub fn on_click(sdk: &mut Sdk, target: &JsValue, page: &Point, viewport: &Point, synthetic: bool) {
    let Some(slot_element) = element::closest(target, &sdk.cfg.ad_selector) else {
        return;
    };
    let now = env::perf_ms();
    // Out of `sdk` while the event borrowing the slot is recorded.
    let slots = core::mem::take(&mut sdk.ads.slots);
    if let Some(slot) = slots.iter().find(|slot| slot.element == slot_element) {
        let (page_rect, (left, top)) = element::page_rect(&slot_element);
        let since_viewable_ms = slot
            .state
            .as_ref()
            .and_then(|state| state.viewable_at_ms)
            .map_or(-1, |at| (now - at).max(0.0) as i64);
        let href = element::link_target(target);
        sdk.record(Kind::AdClick(AdClick {
            ad: &slot.ad,
            impression_id: &slot.impression_id,
            in_ad: Point {
                x: viewport.x - round_i32(left),
                y: viewport.y - round_i32(top),
            },
            page: *page,
            viewport: *viewport,
            page_rect,
            since_viewable_ms,
            href: &href,
            synthetic,
        }));
    }
    sdk.ads.slots = slots;
}

pub fn disconnect(sdk: &mut Sdk) {
    sdk.ads.clear();
}
