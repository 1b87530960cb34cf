//! The events, context and identity the SDK sends, as plain structs written to protobuf by
//! `core::wire` (field numbers from proto/sightline/v1/*.proto, checked by the tests below,
//! which decode every kind with `sightline-proto`).

use alloc::{string::String, vec::Vec};

use super::wire;

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
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    Load = 1,
    Push = 2,
    Pop = 3,
    Manual = 4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Viewable = 1,
    Final = 2,
}

#[derive(Debug, Clone, Default)]
pub struct AdImpression {
    pub ad: Ad,
    pub impression_id: Vec<u8>,
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
    /// ViewabilityRule: 1 display 50 %, 2 large 30 %.
    pub rule: u32,
    pub measurable: bool,
    /// ActualVisibility: 0 unknown, 1 visible, 2 obscured.
    pub actual_visibility: u32,
    pub time_to_viewable_ms: u32,
}

#[derive(Debug, Clone, Default)]
pub struct AdClick {
    pub ad: Ad,
    pub impression_id: Vec<u8>,
    pub in_ad: Point,
    pub page: Point,
    pub viewport: Point,
    pub page_rect: Rect,
    pub since_viewable_ms: i64,
    pub href: String,
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

#[derive(Debug, Clone)]
pub enum Kind {
    PageView {
        url: String,
        referrer: String,
        navigation: Navigation,
        page_height: u32,
    },
    Click {
        element: Element,
        page: Point,
        viewport: Point,
        button: u32,
    },
    Scroll(Scroll),
    Hover {
        element: Element,
        dwell_ms: u32,
        ad_slot_id: String,
    },
    AdImpression(AdImpression),
    AdClick(AdClick),
    Search {
        query: String,
        results_count: u32,
    },
    Custom {
        name: String,
        properties: Vec<(String, Value)>,
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

fn point(buf: &mut Vec<u8>, field: u32, p: &Point) {
    wire::message(buf, field, |m| {
        wire::sint(m, 1, i64::from(p.x));
        wire::sint(m, 2, i64::from(p.y));
    });
}

fn rect(buf: &mut Vec<u8>, field: u32, r: &Rect) {
    wire::message(buf, field, |m| {
        wire::sint(m, 1, i64::from(r.x));
        wire::sint(m, 2, i64::from(r.y));
        wire::uint(m, 3, u64::from(r.width));
        wire::uint(m, 4, u64::from(r.height));
    });
}

fn element(buf: &mut Vec<u8>, field: u32, e: &Element) {
    wire::message(buf, field, |m| {
        wire::string(m, 1, &e.selector);
        wire::string(m, 2, &e.tag);
        wire::string(m, 3, &e.id);
        for (name, value) in &e.data {
            wire::map_entry(m, 4, name, value);
        }
        wire::string(m, 5, &e.href);
        wire::string(m, 6, &e.text);
        rect(m, 7, &e.rect);
    });
}

fn ad(buf: &mut Vec<u8>, field: u32, a: &Ad) {
    wire::message(buf, field, |m| {
        wire::string(m, 1, &a.slot_id);
        wire::string(m, 2, &a.creative_id);
        wire::string(m, 3, &a.campaign_id);
        wire::string(m, 4, &a.placement_id);
        wire::uint(m, 5, u64::from(a.width));
        wire::uint(m, 6, u64::from(a.height));
    });
}

fn kind(buf: &mut Vec<u8>, kind: &Kind) {
    match kind {
        Kind::PageView {
            url,
            referrer,
            navigation,
            page_height,
        } => wire::message(buf, 10, |m| {
            wire::string(m, 1, url);
            wire::string(m, 2, referrer);
            wire::uint(m, 3, *navigation as u64);
            wire::uint(m, 4, u64::from(*page_height));
        }),
        Kind::Click {
            element: e,
            page,
            viewport,
            button,
        } => wire::message(buf, 11, |m| {
            element(m, 1, e);
            point(m, 2, page);
            point(m, 3, viewport);
            wire::uint(m, 4, u64::from(*button));
        }),
        Kind::Scroll(s) => wire::message(buf, 12, |m| {
            wire::uint(m, 1, u64::from(s.max_depth_px));
            wire::uint(m, 2, u64::from(s.max_depth_pct));
            wire::uint(m, 3, u64::from(s.milestone_pct));
            wire::uint(m, 4, u64::from(s.page_height));
        }),
        Kind::Hover {
            element: e,
            dwell_ms,
            ad_slot_id,
        } => wire::message(buf, 13, |m| {
            element(m, 1, e);
            wire::uint(m, 2, u64::from(*dwell_ms));
            wire::string(m, 3, ad_slot_id);
        }),
        Kind::AdImpression(i) => wire::message(buf, 14, |m| {
            ad(m, 1, &i.ad);
            wire::bytes(m, 2, &i.impression_id);
            wire::uint(m, 3, u64::from(i.phase));
            if let Some(r) = &i.page_rect {
                rect(m, 4, r);
            }
            if let Some(r) = &i.viewport_rect {
                rect(m, 5, r);
            }
            wire::uint(m, 6, u64::from(i.viewport_width));
            wire::uint(m, 7, u64::from(i.viewport_height));
            wire::uint(m, 8, u64::from(i.page_height));
            wire::float(m, 9, i.max_visible_fraction);
            wire::uint(m, 10, u64::from(i.in_view_ms));
            wire::uint(m, 11, u64::from(i.max_continuous_in_view_ms));
            wire::boolean(m, 12, i.viewable);
            wire::uint(m, 13, u64::from(i.rule));
            wire::boolean(m, 14, i.measurable);
            wire::uint(m, 15, u64::from(i.actual_visibility));
            wire::uint(m, 16, u64::from(i.time_to_viewable_ms));
        }),
        Kind::AdClick(c) => wire::message(buf, 15, |m| {
            ad(m, 1, &c.ad);
            wire::bytes(m, 2, &c.impression_id);
            point(m, 3, &c.in_ad);
            point(m, 4, &c.page);
            point(m, 5, &c.viewport);
            rect(m, 6, &c.page_rect);
            wire::int(m, 7, c.since_viewable_ms);
            wire::string(m, 8, &c.href);
        }),
        Kind::Search {
            query,
            results_count,
        } => wire::message(buf, 16, |m| {
            wire::string(m, 1, query);
            wire::uint(m, 2, u64::from(*results_count));
        }),
        Kind::Custom { name, properties } => wire::message(buf, 17, |m| {
            wire::string(m, 1, name);
            for (key, value) in properties {
                wire::message(m, 2, |p| {
                    wire::string(p, 1, key);
                    // oneof members are written even when they hold the default value.
                    match value {
                        Value::Text(text) => wire::raw(p, 2, text.as_bytes()),
                        Value::Number(number) => {
                            p.push((3 << 3) | 1);
                            p.extend_from_slice(&number.to_le_bytes());
                        }
                        Value::Int(int) => {
                            p.push(4 << 3);
                            wire::varint(p, *int as u64);
                        }
                        Value::Bool(flag) => {
                            p.push(5 << 3);
                            p.push(u8::from(*flag));
                        }
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
    wire::bytes(&mut buf, 1, event_id);
    wire::int(&mut buf, 2, client_ts_ms);
    wire::uint(&mut buf, 3, seq);
    wire::bytes(&mut buf, 4, page_view_id);
    kind(&mut buf, what);
    buf
}

/// The `Batch` fields every batch of one header shares: site key, SDK version, context,
/// identity and experiments (not `batch_seq`, `sent_at_ms` or events).
pub fn encode_header(
    site_key: &str,
    sdk_version: &str,
    context: &Context,
    identity: &Identity,
    experiments: &[(String, String)],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    wire::string(&mut buf, 1, site_key);
    wire::string(&mut buf, 2, sdk_version);
    wire::message(&mut buf, 5, |m| {
        wire::string(m, 1, &context.url);
        wire::string(m, 2, &context.referrer);
        wire::uint(m, 3, u64::from(context.viewport_width));
        wire::uint(m, 4, u64::from(context.viewport_height));
        wire::uint(m, 5, u64::from(context.screen_width));
        wire::uint(m, 6, u64::from(context.screen_height));
        wire::float(m, 7, context.device_pixel_ratio);
        wire::string(m, 8, &context.locale);
        wire::sint(m, 9, i64::from(context.timezone_offset_min));
    });
    wire::message(&mut buf, 6, |m| {
        wire::string(m, 1, identity.anonymous_id);
        wire::string(m, 2, identity.user_id);
        wire::string(m, 3, identity.session_id);
        wire::string(m, 4, identity.page_session_id);
        for (name, value) in identity.traits {
            wire::map_entry(m, 5, name, value);
        }
    });
    for (name, value) in experiments {
        wire::map_entry(&mut buf, 7, name, value);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use sightline_proto::v1 as pb;

    fn decode(kind_value: &Kind) -> pb::Event {
        let bytes = encode_event(&[9; 16], 1_700_000_000_123, 7, &[3; 16], kind_value);
        pb::Event::decode(bytes.as_slice()).expect("the contract decodes what the SDK writes")
    }

    fn sample_element() -> Element {
        Element {
            selector: "main>a#x".into(),
            tag: "a".into(),
            id: "x".into(),
            data: alloc::vec![
                ("ad-slot".into(), "s1".into()),
                ("track".into(), "buy".into())
            ],
            href: "https://e.com/p".into(),
            text: String::new(),
            rect: Rect {
                x: -5,
                y: 1200,
                width: 300,
                height: 0,
            },
        }
    }

    #[test]
    fn event_envelope_and_page_view() {
        let event = decode(&Kind::PageView {
            url: "https://e.com/?utm_source=x".into(),
            referrer: String::new(),
            navigation: Navigation::Push,
            page_height: 4000,
        });
        assert_eq!(event.event_id, [9; 16]);
        assert_eq!(event.client_ts_ms, 1_700_000_000_123);
        assert_eq!(event.seq, 7);
        assert_eq!(event.page_view_id, [3; 16]);
        let Some(pb::event::Kind::PageView(view)) = event.kind else {
            panic!("page view expected")
        };
        assert_eq!(view.url, "https://e.com/?utm_source=x");
        assert_eq!(view.navigation, pb::Navigation::Push as i32);
        assert_eq!(view.page_height, 4000);
    }

    #[test]
    fn click_with_element() {
        let event = decode(&Kind::Click {
            element: sample_element(),
            page: Point { x: 10, y: 1210 },
            viewport: Point { x: 10, y: -3 },
            button: 2,
        });
        let Some(pb::event::Kind::Click(click)) = event.kind else {
            panic!("click expected")
        };
        let element = click.element.expect("element");
        assert_eq!(element.selector, "main>a#x");
        assert_eq!(
            (
                element.tag.as_str(),
                element.id.as_str(),
                element.href.as_str()
            ),
            ("a", "x", "https://e.com/p")
        );
        assert_eq!(element.data.get("track").map(String::as_str), Some("buy"));
        assert_eq!(element.data.len(), 2);
        assert_eq!(
            element.rect,
            Some(pb::Rect {
                x: -5,
                y: 1200,
                width: 300,
                height: 0
            })
        );
        assert_eq!(click.page, Some(pb::Point { x: 10, y: 1210 }));
        assert_eq!(click.viewport, Some(pb::Point { x: 10, y: -3 }));
        assert_eq!(click.button, 2);
    }

    #[test]
    fn scroll_hover_search() {
        let scroll = Scroll {
            max_depth_px: 3000,
            max_depth_pct: 75,
            milestone_pct: 75,
            page_height: 4000,
        };
        let Some(pb::event::Kind::Scroll(s)) = decode(&Kind::Scroll(scroll)).kind else {
            panic!("scroll")
        };
        assert_eq!(
            (
                s.max_depth_px,
                s.max_depth_pct,
                s.milestone_pct,
                s.page_height
            ),
            (3000, 75, 75, 4000)
        );
        let hover = Kind::Hover {
            element: sample_element(),
            dwell_ms: 812,
            ad_slot_id: "s1".into(),
        };
        let Some(pb::event::Kind::Hover(h)) = decode(&hover).kind else {
            panic!("hover")
        };
        assert_eq!((h.dwell_ms, h.ad_slot_id.as_str()), (812, "s1"));
        assert_eq!(h.element.map(|e| e.id), Some("x".into()));
        let search = Kind::Search {
            query: "rust".into(),
            results_count: 0,
        };
        let Some(pb::event::Kind::Search(q)) = decode(&search).kind else {
            panic!("search")
        };
        assert_eq!((q.query.as_str(), q.results_count), ("rust", 0));
    }

    #[test]
    fn custom_properties_keep_defaults_inside_the_oneof() {
        let custom = Kind::Custom {
            name: "signup".into(),
            properties: alloc::vec![
                ("plan".into(), Value::Text(String::new())),
                ("ratio".into(), Value::Number(0.5)),
                ("seats".into(), Value::Int(0)),
                ("neg".into(), Value::Int(-3)),
                ("trial".into(), Value::Bool(false)),
            ],
        };
        let Some(pb::event::Kind::Custom(c)) = decode(&custom).kind else {
            panic!("custom")
        };
        use pb::property::Value as V;
        let values: Vec<_> = c
            .properties
            .iter()
            .map(|p| (p.key.as_str(), p.value.clone()))
            .collect();
        assert_eq!(
            values,
            [
                ("plan", Some(V::StringValue(String::new()))),
                ("ratio", Some(V::NumberValue(0.5))),
                ("seats", Some(V::IntValue(0))),
                ("neg", Some(V::IntValue(-3))),
                ("trial", Some(V::BoolValue(false))),
            ]
        );
    }

    #[test]
    fn ad_impression_and_click() {
        let ad_value = Ad {
            slot_id: "top".into(),
            creative_id: "c1".into(),
            campaign_id: "k".into(),
            placement_id: "p".into(),
            width: 970,
            height: 250,
        };
        let impression = AdImpression {
            ad: ad_value.clone(),
            impression_id: alloc::vec![1; 16],
            phase: Phase::Final as u32,
            page_rect: Some(Rect {
                x: 15,
                y: 100,
                width: 970,
                height: 250,
            }),
            viewport_rect: Some(Rect {
                x: 15,
                y: 100,
                width: 970,
                height: 250,
            }),
            viewport_width: 1000,
            viewport_height: 800,
            page_height: 3000,
            max_visible_fraction: 0.75,
            in_view_ms: 2300,
            max_continuous_in_view_ms: 1800,
            viewable: true,
            rule: 2,
            measurable: true,
            actual_visibility: 1,
            time_to_viewable_ms: 1000,
        };
        let Some(pb::event::Kind::AdImpression(i)) = decode(&Kind::AdImpression(impression)).kind
        else {
            panic!("impression")
        };
        assert_eq!(
            i.ad.as_ref()
                .map(|a| (a.slot_id.as_str(), a.width, a.height)),
            Some(("top", 970, 250))
        );
        assert_eq!(i.phase, pb::ImpressionPhase::Final as i32);
        assert_eq!(i.rule, pb::ViewabilityRule::Large30 as i32);
        assert_eq!(i.actual_visibility, pb::ActualVisibility::Visible as i32);
        assert_eq!(
            i.page_rect,
            Some(pb::Rect {
                x: 15,
                y: 100,
                width: 970,
                height: 250
            })
        );
        assert_eq!(
            (i.viewport_width, i.viewport_height, i.page_height),
            (1000, 800, 3000)
        );
        assert_eq!(
            (
                i.in_view_ms,
                i.max_continuous_in_view_ms,
                i.time_to_viewable_ms
            ),
            (2300, 1800, 1000)
        );
        assert!(i.viewable && i.measurable);
        assert_eq!(i.max_visible_fraction, 0.75);
        let click = AdClick {
            ad: ad_value,
            impression_id: alloc::vec![1; 16],
            in_ad: Point { x: 5, y: 6 },
            page: Point { x: 20, y: 106 },
            viewport: Point { x: 20, y: 106 },
            page_rect: Rect {
                x: 15,
                y: 100,
                width: 970,
                height: 250,
            },
            since_viewable_ms: -1,
            href: "https://ads.example/landing".into(),
        };
        let Some(pb::event::Kind::AdClick(c)) = decode(&Kind::AdClick(click)).kind else {
            panic!("ad click")
        };
        assert_eq!(c.since_viewable_ms, -1);
        assert_eq!(c.in_ad, Some(pb::Point { x: 5, y: 6 }));
        assert_eq!(c.impression_id, [1; 16]);
        assert_eq!(c.href, "https://ads.example/landing");
    }

    #[test]
    fn header_decodes_as_batch_fields() {
        let context = Context {
            url: "https://e.com/".into(),
            referrer: "https://r.com/x".into(),
            viewport_width: 1000,
            viewport_height: 800,
            screen_width: 1920,
            screen_height: 1080,
            device_pixel_ratio: 2.0,
            locale: "en-IN".into(),
            timezone_offset_min: 330,
        };
        let mut traits = Pairs::new();
        set_pair(&mut traits, "cohort".into(), "b".into());
        set_pair(&mut traits, "college".into(), "x".into());
        set_pair(&mut traits, "cohort".into(), "c".into());
        let identity = Identity {
            anonymous_id: "a",
            user_id: "u",
            session_id: "s",
            page_session_id: "p",
            traits: &traits,
        };
        let experiments = alloc::vec![("exp".into(), "v2".into())];
        let batch = pb::Batch::decode(
            encode_header("site", "0.1.0", &context, &identity, &experiments).as_slice(),
        )
        .expect("decodes");
        let ctx = batch.context.expect("context");
        assert_eq!(
            (ctx.url.as_str(), ctx.referrer.as_str(), ctx.locale.as_str()),
            ("https://e.com/", "https://r.com/x", "en-IN")
        );
        assert_eq!(
            (
                ctx.viewport_width,
                ctx.screen_height,
                ctx.timezone_offset_min
            ),
            (1000, 1080, 330)
        );
        assert_eq!(ctx.device_pixel_ratio, 2.0);
        let id = batch.identity.expect("identity");
        assert_eq!(
            id.traits.into_iter().collect::<Vec<_>>(),
            [
                ("cohort".into(), "c".into()),
                ("college".into(), "x".into())
            ]
        );
        assert_eq!(batch.experiments.get("exp").map(String::as_str), Some("v2"));
        assert_eq!(
            (batch.site_key.as_str(), batch.sdk_version.as_str()),
            ("site", "0.1.0")
        );
    }
}
