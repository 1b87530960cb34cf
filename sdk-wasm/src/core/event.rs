//! The events, context and identity the SDK sends, as plain structs written to protobuf by
//! `core::wire`, with the field numbers of `core::schema` (generated from
//! proto/sightline/v1/*.proto). `tests/wire_contract.rs` asserts the bytes equal prost's.

use alloc::{string::String, vec::Vec};

use super::{
    schema::{self, batch, custom, event, point, rect},
    wire::{self, Field, ty::Msg},
};

/// `map<string, string>` entries, kept sorted by key (deterministic bytes).
pub type Pairs = Vec<(String, String)>;

/// Inserts or replaces `key` keeping `pairs` sorted.
pub fn set_pair(pairs: &mut Pairs, key: String, value: String) {
    match pairs.binary_search_by(|(k, _)| k.as_str().cmp(key.as_str())) {
        Ok(index) => {
            if let Some(pair) = pairs.get_mut(index) {
                pair.1 = value;
            }
        }
        Err(index) => pairs.insert(index, (key, value)),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Element {
    pub selector: String,
    pub tag: String,
    pub id: String,
    pub data: Pairs,
    pub href: String,
    pub text: String,
    pub rect: Rect,
}

#[derive(Debug, Clone, Default)]
pub struct Ad {
    pub slot_id: String,
    pub creative_id: String,
    pub campaign_id: String,
    pub placement_id: String,
    /// The ad server's decision that chose this creative (issue 22: `data-ad-decision`,
    /// `data-ad-policy`, `data-ad-variant` of the slot), for impressions and clicks.
    pub decision_id: String,
    pub decision_policy: String,
    pub decision_variant: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Navigation {
    Load = schema::navigation::LOAD,
    Push = schema::navigation::PUSH,
    Pop = schema::navigation::POP,
    Manual = schema::navigation::MANUAL,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Phase {
    Viewable = schema::impression_phase::VIEWABLE,
    Final = schema::impression_phase::FINAL,
}

/// Events borrow their strings, element and ad from the caller: encoding is all they are
/// built for, so owning them would only add clones and drop glue (~1.5 KB of wasm).
#[derive(Debug, Clone, Copy)]
pub struct AdImpression<'a> {
    pub ad: &'a Ad,
    pub impression_id: &'a [u8],
    /// `schema::impression_phase`.
    pub phase: u32,
    pub page_rect: Option<Rect>,
    pub viewport_rect: Option<Rect>,
    pub viewport_width: u32,
    pub viewport_height: u32,
    pub page_height: u32,
    pub max_visible_fraction: f32,
    pub in_view_ms: u32,
    pub max_continuous_in_view_ms: u32,
    pub viewable: bool,
    /// `schema::viewability_rule`.
    pub rule: u32,
    pub measurable: bool,
    /// `schema::actual_visibility`.
    pub actual_visibility: u32,
    pub time_to_viewable_ms: u32,
    /// CSS hid the slot when the row was recorded (`boundary::el::HIDDEN`).
    pub hidden: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct AdClick<'a> {
    pub ad: &'a Ad,
    pub impression_id: &'a [u8],
    pub in_ad: Point,
    pub page: Point,
    pub viewport: Point,
    pub page_rect: Rect,
    pub since_viewable_ms: i64,
    pub href: &'a str,
    /// Dispatched by script (`MouseEvent.isTrusted` false).
    pub synthetic: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scroll {
    pub max_depth_px: u32,
    pub max_depth_pct: u32,
    pub milestone_pct: u32,
    pub page_height: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    PageView {
        url: &'a str,
        referrer: &'a str,
        navigation: Navigation,
        page_height: u32,
    },
    AdImpression(AdImpression<'a>),
    AdClick(AdClick<'a>),
    /// An `AdVideo` message encoded by the optional video module (`js/modules/video.js`,
    /// proven byte-equal to prost by `tests/video_wire.rs`), one byte per number as JS
    /// handed it over: the core only frames it.
    AdVideo(&'a [f64]),
    Click {
        element: &'a Element,
        page: Point,
        viewport: Point,
        button: u32,
    },
    Scroll(Scroll),
    Hover {
        element: &'a Element,
        dwell_ms: u32,
        ad_slot_id: &'a str,
    },
    Search {
        query: &'a str,
        results_count: u32,
    },
    Custom {
        name: &'a str,
        properties: &'a [(String, Value)],
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub url: String,
    pub referrer: String,
    pub viewport_width: u32,
    pub viewport_height: u32,
    pub screen_width: u32,
    pub screen_height: u32,
    pub device_pixel_ratio: f32,
    pub locale: String,
    pub timezone_offset_min: i32,
}

/// Borrowed from the SDK's state: the header is re-encoded on every change, and copying
/// the strings first only to drop them after encoding cost code and allocations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Identity<'a> {
    pub anonymous_id: &'a str,
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub page_session_id: &'a str,
    pub traits: &'a [(String, String)],
}

fn point(buf: &mut Vec<u8>, field: Field<Msg>, p: &Point) {
    wire::message(buf, field, |m| {
        wire::sint32(m, point::X, p.x);
        wire::sint32(m, point::Y, p.y);
    });
}

fn rect(buf: &mut Vec<u8>, field: Field<Msg>, r: &Rect) {
    wire::message(buf, field, |m| {
        wire::sint32(m, rect::X, r.x);
        wire::sint32(m, rect::Y, r.y);
        wire::uint32(m, rect::WIDTH, r.width);
        wire::uint32(m, rect::HEIGHT, r.height);
    });
}

fn element(buf: &mut Vec<u8>, field: Field<Msg>, e: &Element) {
    use schema::element::*;
    wire::message(buf, field, |m| {
        wire::string(m, SELECTOR, &e.selector);
        wire::string(m, TAG, &e.tag);
        wire::string(m, ID, &e.id);
        for (name, value) in &e.data {
            wire::map_entry(m, DATA, name, value);
        }
        wire::string(m, HREF, &e.href);
        wire::string(m, TEXT, &e.text);
        rect(m, RECT, &e.rect);
    });
}

fn ad(buf: &mut Vec<u8>, field: Field<Msg>, a: &Ad) {
    use schema::ad::*;
    wire::message(buf, field, |m| {
        wire::string(m, SLOT_ID, &a.slot_id);
        wire::string(m, CREATIVE_ID, &a.creative_id);
        wire::string(m, CAMPAIGN_ID, &a.campaign_id);
        wire::string(m, PLACEMENT_ID, &a.placement_id);
        wire::uint32(m, WIDTH, a.width);
        wire::uint32(m, HEIGHT, a.height);
        wire::string(m, DECISION_ID, &a.decision_id);
        wire::string(m, DECISION_POLICY, &a.decision_policy);
        wire::string(m, DECISION_VARIANT, &a.decision_variant);
    });
}

fn kind(buf: &mut Vec<u8>, kind: &Kind) {
    match kind {
        Kind::PageView {
            url,
            referrer,
            navigation,
            page_height,
        } => wire::message(buf, event::PAGE_VIEW, |m| {
            use schema::page_view::*;
            wire::string(m, URL, url);
            wire::string(m, REFERRER, referrer);
            wire::enumeration(m, NAVIGATION, *navigation as u32);
            wire::uint32(m, PAGE_HEIGHT, *page_height);
        }),
        Kind::Click {
            element: e,
            page,
            viewport,
            button,
        } => wire::message(buf, event::CLICK, |m| {
            use schema::click::*;
            element(m, ELEMENT, e);
            point(m, PAGE, page);
            point(m, VIEWPORT, viewport);
            wire::uint32(m, BUTTON, *button);
        }),
        Kind::Scroll(s) => wire::message(buf, event::SCROLL, |m| {
            use schema::scroll::*;
            wire::uint32(m, MAX_DEPTH_PX, s.max_depth_px);
            wire::uint32(m, MAX_DEPTH_PCT, s.max_depth_pct);
            wire::uint32(m, MILESTONE_PCT, s.milestone_pct);
            wire::uint32(m, PAGE_HEIGHT, s.page_height);
        }),
        Kind::Hover {
            element: e,
            dwell_ms,
            ad_slot_id,
        } => wire::message(buf, event::HOVER, |m| {
            use schema::hover::*;
            element(m, ELEMENT, e);
            wire::uint32(m, DWELL_MS, *dwell_ms);
            wire::string(m, AD_SLOT_ID, ad_slot_id);
        }),
        Kind::AdImpression(i) => wire::message(buf, event::AD_IMPRESSION, |m| {
            use schema::ad_impression::*;
            ad(m, AD, i.ad);
            wire::bytes(m, IMPRESSION_ID, i.impression_id);
            wire::enumeration(m, PHASE, i.phase);
            if let Some(r) = &i.page_rect {
                rect(m, PAGE_RECT, r);
            }
            if let Some(r) = &i.viewport_rect {
                rect(m, VIEWPORT_RECT, r);
            }
            wire::uint32(m, VIEWPORT_WIDTH, i.viewport_width);
            wire::uint32(m, VIEWPORT_HEIGHT, i.viewport_height);
            wire::uint32(m, PAGE_HEIGHT, i.page_height);
            wire::float(m, MAX_VISIBLE_FRACTION, i.max_visible_fraction);
            wire::uint32(m, IN_VIEW_MS, i.in_view_ms);
            wire::uint32(m, MAX_CONTINUOUS_IN_VIEW_MS, i.max_continuous_in_view_ms);
            wire::boolean(m, VIEWABLE, i.viewable);
            wire::enumeration(m, RULE, i.rule);
            wire::boolean(m, MEASURABLE, i.measurable);
            wire::enumeration(m, ACTUAL_VISIBILITY, i.actual_visibility);
            wire::uint32(m, TIME_TO_VIEWABLE_MS, i.time_to_viewable_ms);
            wire::boolean(m, SLOT_HIDDEN, i.hidden);
        }),
        Kind::AdClick(c) => wire::message(buf, event::AD_CLICK, |m| {
            use schema::ad_click::*;
            ad(m, AD, c.ad);
            wire::bytes(m, IMPRESSION_ID, c.impression_id);
            point(m, IN_AD, &c.in_ad);
            point(m, PAGE, &c.page);
            point(m, VIEWPORT, &c.viewport);
            rect(m, PAGE_RECT, &c.page_rect);
            wire::int64(m, SINCE_VIEWABLE_MS, c.since_viewable_ms);
            wire::string(m, HREF, c.href);
            wire::boolean(m, SYNTHETIC, c.synthetic);
        }),
        Kind::Search {
            query,
            results_count,
        } => wire::message(buf, event::SEARCH, |m| {
            use schema::search::*;
            wire::string(m, QUERY, query);
            wire::uint32(m, RESULTS_COUNT, *results_count);
        }),
        Kind::AdVideo(message) => wire::message(buf, event::AD_VIDEO, |m| {
            for byte in *message {
                m.push(*byte as u8);
            }
        }),
        Kind::Custom { name, properties } => wire::message(buf, event::CUSTOM, |m| {
            wire::string(m, custom::NAME, name);
            for (key, value) in *properties {
                wire::message(m, custom::PROPERTIES, |p| {
                    use schema::property::*;
                    wire::string(p, KEY, key);
                    match value {
                        Value::Text(text) => wire::oneof_string(p, STRING_VALUE, text),
                        Value::Number(number) => wire::oneof_double(p, NUMBER_VALUE, *number),
                        Value::Int(int) => wire::oneof_int64(p, INT_VALUE, *int),
                        Value::Bool(flag) => wire::oneof_bool(p, BOOL_VALUE, *flag),
                    }
                });
            }
        }),
    }
}

/// One `Event` message.
pub fn encode_event(
    event_id: &[u8],
    client_ts_ms: i64,
    seq: u64,
    page_view_id: &[u8],
    what: &Kind,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(96);
    wire::bytes(&mut buf, event::EVENT_ID, event_id);
    wire::int64(&mut buf, event::CLIENT_TS_MS, client_ts_ms);
    wire::uint64(&mut buf, event::SEQ, seq);
    wire::bytes(&mut buf, event::PAGE_VIEW_ID, page_view_id);
    kind(&mut buf, what);
    buf
}

/// `Batch` fields 1–2, the same for every batch of an SDK instance: site key, SDK version.
pub fn encode_source(site_key: &str, sdk_version: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    wire::string(&mut buf, batch::SITE_KEY, site_key);
    wire::string(&mut buf, batch::SDK_VERSION, sdk_version);
    buf
}

/// `Batch` fields 5–7, shared by the events of a batch: context, identity, experiments.
/// (`sent_at_ms` and `batch_seq`, fields 3–4, go between these and `encode_source`'s.)
pub fn encode_header(
    context: &Context,
    identity: &Identity,
    experiments: &[(String, String)],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    wire::message(&mut buf, batch::CONTEXT, |m| {
        use schema::page_context::*;
        wire::string(m, URL, &context.url);
        wire::string(m, REFERRER, &context.referrer);
        wire::uint32(m, VIEWPORT_WIDTH, context.viewport_width);
        wire::uint32(m, VIEWPORT_HEIGHT, context.viewport_height);
        wire::uint32(m, SCREEN_WIDTH, context.screen_width);
        wire::uint32(m, SCREEN_HEIGHT, context.screen_height);
        wire::float(m, DEVICE_PIXEL_RATIO, context.device_pixel_ratio);
        wire::string(m, LOCALE, &context.locale);
        wire::sint32(m, TIMEZONE_OFFSET_MIN, context.timezone_offset_min);
    });
    wire::message(&mut buf, batch::IDENTITY, |m| {
        use schema::identity::*;
        wire::string(m, ANONYMOUS_ID, identity.anonymous_id);
        wire::string(m, USER_ID, identity.user_id);
        wire::string(m, SESSION_ID, identity.session_id);
        wire::string(m, PAGE_SESSION_ID, identity.page_session_id);
        for (name, value) in identity.traits {
            wire::map_entry(m, TRAITS, name, value);
        }
    });
    for (name, value) in experiments {
        wire::map_entry(&mut buf, batch::EXPERIMENTS, name, value);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_stay_sorted_and_replace_by_key() {
        let mut pairs = Pairs::new();
        for (key, value) in [
            ("college", "x"),
            ("cohort", "b"),
            ("a", "1"),
            ("cohort", "c"),
        ] {
            set_pair(&mut pairs, key.into(), value.into());
        }
        let keys: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(keys, [("a", "1"), ("cohort", "c"), ("college", "x")]);
    }
}
