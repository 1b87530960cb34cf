//! Ad slots (issue 5): one IntersectionObserver with thresholds feeds the viewability state
//! machine in `core::viewability`; a MutationObserver picks up slots added or removed later.
//! Layout is read only from IntersectionObserver entries (computed by the browser anyway),
//! once for page height at first sight, and on click. Timers run only while an ad is in view.

use alloc::{string::String, vec::Vec};
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{
    DomRectReadOnly, Element, IntersectionObserver, IntersectionObserverEntry,
    IntersectionObserverInit, MutationObserver, MutationObserverInit,
};

use super::{Sdk, element, env, with_sdk};

use crate::core::{
    event::{Ad, AdClick, AdImpression, Kind, Phase, Point, Rect},
    num::{round_i32, round_u32},
    url,
    viewability::{Rule, Viewability},
};

/// Visible fractions at which the browser reports: the rule thresholds (0.3, 0.5) plus
/// steps fine enough for a useful maximum visible fraction.
const THRESHOLDS: [f64; 12] = [0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 0.8, 0.9, 1.0];
/// IntersectionObserver v2 minimum notification delay (the spec requires >= 100 ms).
const VISIBILITY_DELAY_MS: f64 = 100.0;

struct Slot {
    key: u32,
    element: Element,
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

/// An observer and the callback it calls (kept alive together).
type Observed<O> = Option<(O, Closure<dyn FnMut(Array)>)>;

#[derive(Default)]
pub struct Ads {
    slots: Vec<Slot>,
    next_key: u32,
    intersection: Observed<IntersectionObserver>,
    mutation: Observed<MutationObserver>,
    /// The browser supports IntersectionObserver v2 (`trackVisibility`).
    visibility_v2: bool,
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

fn attribute(element: &Element, name: &str) -> String {
    element.get_attribute(name).unwrap_or_default()
}

fn rect_of(bounds: &DomRectReadOnly, offset: (f64, f64)) -> Rect {
    Rect {
        x: round_i32(bounds.x() + offset.0),
        y: round_i32(bounds.y() + offset.1),
        width: round_u32(bounds.width()),
        height: round_u32(bounds.height()),
    }
}

fn observers(sdk: &mut Sdk) {
    if sdk.ads.intersection.is_some() {
        return;
    }
    let on_intersect = Closure::<dyn FnMut(Array)>::new(|entries: Array| {
        with_sdk(|sdk| on_entries(sdk, entries));
    });
    let init = IntersectionObserverInit::new();
    init.set_threshold(
        &THRESHOLDS
            .iter()
            .map(|t| JsValue::from_f64(*t))
            .collect::<Array>(),
    );
    let _ = Reflect::set(&init, &JsValue::from_str("trackVisibility"), &JsValue::TRUE);
    let _ = Reflect::set(
        &init,
        &JsValue::from_str("delay"),
        &JsValue::from_f64(VISIBILITY_DELAY_MS),
    );
    if let Ok(observer) =
        IntersectionObserver::new_with_options(on_intersect.as_ref().unchecked_ref(), &init)
    {
        sdk.ads.visibility_v2 = env::get_bool(&observer, "trackVisibility") == Some(true);
        sdk.ads.intersection = Some((observer, on_intersect));
    }
    let on_mutate = Closure::<dyn FnMut(Array)>::new(|_records: Array| {
        with_sdk(on_mutations);
    });
    let Some(root) = env::document().and_then(|d| d.document_element()) else {
        return;
    };
    if let Ok(observer) = MutationObserver::new(on_mutate.as_ref().unchecked_ref()) {
        let options = MutationObserverInit::new();
        options.set_child_list(true);
        options.set_subtree(true);
        if observer.observe_with_options(&root, &options).is_ok() {
            sdk.ads.mutation = Some((observer, on_mutate));
        }
    }
}

/// Starts tracking the slots of a new page view. The scan runs in the next task, not now:
/// on an SPA navigation the router usually replaces the old page's slots right after
/// `pushState`, and scanning now would give those outgoing slots a second, never-measured
/// impression in the new page view. Slots still on the page then (or added later, via the
/// MutationObserver) are the new page view's.
pub fn start_page_view(sdk: &mut Sdk) {
    observers(sdk);
    env::set_timeout(0.0, || {
        with_sdk(|sdk| {
            if sdk.cfg.ads && sdk.capturing() {
                scan(sdk);
            }
        });
    });
}

/// Adds slots not tracked yet (all of them at a page view start).
fn scan(sdk: &mut Sdk) {
    let Some(document) = env::document() else {
        return;
    };
    let Ok(found) = document.query_selector_all(&sdk.cfg.ad_selector) else {
        return;
    };
    for index in 0..found.length() {
        let Some(element) = found
            .item(index)
            .and_then(|node| node.dyn_into::<Element>().ok())
        else {
            continue;
        };
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
            width: 0,
            height: 0,
        };
        if let Some((observer, _)) = &sdk.ads.intersection {
            observer.observe(&element);
        }
        sdk.ads.slots.push(Slot {
            key,
            element,
            ad,
            impression_id: sdk.random.id(),
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

fn on_mutations(sdk: &mut Sdk) {
    if !sdk.cfg.ads {
        return;
    }
    // Removed slots end their impression now.
    let mut index = 0;
    while index < sdk.ads.slots.len() {
        if sdk.ads.slots[index].element.is_connected() {
            index += 1;
            continue;
        }
        let mut slot = sdk.ads.slots.remove(index);
        if let Some((observer, _)) = &sdk.ads.intersection {
            observer.unobserve(&slot.element);
        }
        let finals = finish(&mut slot, env::perf_ms());
        // A slot removed before the browser ever measured it was never an impression.
        if slot.state.is_some() {
            sdk.record(finals);
        }
    }
    scan(sdk);
}

fn on_entries(sdk: &mut Sdk, entries: Array) {
    let offset = element::scroll_offset();
    let mut events = Vec::new();
    for entry in entries.iter() {
        let Ok(entry) = entry.dyn_into::<IntersectionObserverEntry>() else {
            continue;
        };
        let target = entry.target();
        let visibility_v2 = sdk.ads.visibility_v2;
        let Some(slot) = sdk.ads.slots.iter_mut().find(|slot| slot.element == target) else {
            continue;
        };
        let now = entry.time();
        let bounds = entry.bounding_client_rect();
        let ratio = entry.intersection_ratio();
        let root = entry.root_bounds();
        if slot.state.is_none() {
            slot.state = Some(Viewability::new(
                Rule::for_size(bounds.width(), bounds.height()),
                env::page_active(),
            ));
            slot.ad.width = round_u32(bounds.width());
            slot.ad.height = round_u32(bounds.height());
        }
        // Rectangles at first sight (or at first observation, for ads never seen).
        if slot.first_page_rect.is_none() || (!slot.seen && ratio > 0.0) {
            slot.first_page_rect = Some(rect_of(&bounds, offset));
            slot.first_viewport_rect = Some(rect_of(&bounds, (0.0, 0.0)));
            slot.viewport = root.map_or((0, 0), |r| {
                (r.width().max(0.0) as u32, r.height().max(0.0) as u32)
            });
            slot.page_height = super::capture::page::page_height();
        }
        slot.seen |= ratio > 0.0;
        let visible = if visibility_v2 {
            env::get_bool(&entry, "isVisible")
        } else {
            None
        };
        let Some(state) = slot.state.as_mut() else {
            continue;
        };
        if state.set_fraction(now, ratio, visible) {
            events.push(slot.key);
        }
    }
    settle(sdk, events);
}

/// Sends VIEWABLE for the slots in `became` and (re)arms the viewability timers.
fn settle(sdk: &mut Sdk, became: Vec<u32>) {
    let mut kinds = Vec::new();
    for slot in &mut sdk.ads.slots {
        if became.contains(&slot.key) && !slot.viewable_sent {
            slot.viewable_sent = true;
            kinds.push(impression(slot, Phase::Viewable, env::perf_ms()));
        }
        let due = slot.state.as_ref().and_then(|state| state.viewable_due());
        match (due, slot.timer) {
            (Some(due), None) => {
                let key = slot.key;
                slot.timer = env::set_timeout(due - env::perf_ms() + 1.0, move || {
                    with_sdk(|sdk| tick(sdk, key));
                });
            }
            (None, Some(timer)) => {
                env::clear_timeout(timer);
                slot.timer = None;
            }
            _ => {}
        }
    }
    for kind in kinds {
        sdk.record(kind);
    }
}

fn tick(sdk: &mut Sdk, key: u32) {
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

fn impression(slot: &mut Slot, phase: Phase, now: f64) -> Kind {
    let (totals, rule, actual) = match slot.state.as_mut() {
        Some(state) => {
            // ActualVisibility: 0 unknown, 1 visible, 2 obscured; ViewabilityRule: 1 / 2.
            let actual = match state.actually_visible {
                Some(true) => 1,
                Some(false) => 2,
                None => 0,
            };
            let rule = match state.rule {
                Rule::Display50 => 1,
                Rule::Large30 => 2,
            };
            (Some(state.totals(now)), rule, actual)
        }
        None => (None, 0, 0),
    };
    let measurable = slot.ad.width > 0 && slot.ad.height > 0;
    Kind::AdImpression(AdImpression {
        ad: slot.ad.clone(),
        impression_id: slot.impression_id.clone(),
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
    })
}

fn finish(slot: &mut Slot, now: f64) -> Kind {
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
        if let Some((observer, _)) = &sdk.ads.intersection {
            observer.unobserve(&slot.element);
        }
        let kind = finish(slot, now);
        sdk.record(kind);
    }
}

/// A click inside an ad slot.
pub fn on_click(sdk: &mut Sdk, target: &Element, page: &Point, viewport: &Point) {
    let Some(slot_element) = target.closest(&sdk.cfg.ad_selector).ok().flatten() else {
        return;
    };
    let now = env::perf_ms();
    let Some(slot) = sdk
        .ads
        .slots
        .iter()
        .find(|slot| slot.element == slot_element)
    else {
        return;
    };
    let bounds = slot_element.get_bounding_client_rect();
    let page_rect = element::page_rect(&slot_element);
    let since_viewable_ms = slot
        .state
        .as_ref()
        .and_then(|state| state.viewable_at_ms)
        .map_or(-1, |at| (now - at).max(0.0) as i64);
    let href = target
        .closest("a[href]")
        .ok()
        .flatten()
        .map(|link| url::origin_and_path(&env::get_string(&link, "href").unwrap_or_default()))
        .unwrap_or_default();
    let click = AdClick {
        ad: slot.ad.clone(),
        impression_id: slot.impression_id.clone(),
        in_ad: Point {
            x: viewport.x - round_i32(bounds.x()),
            y: viewport.y - round_i32(bounds.y()),
        },
        page: *page,
        viewport: *viewport,
        page_rect,
        since_viewable_ms,
        href,
    };
    sdk.record(Kind::AdClick(click));
}

pub fn disconnect(sdk: &mut Sdk) {
    if let Some((observer, _)) = sdk.ads.intersection.take() {
        observer.disconnect();
    }
    if let Some((observer, _)) = sdk.ads.mutation.take() {
        observer.disconnect();
    }
    sdk.ads.clear();
}
