//! General invalid traffic (GIVT): decided from lists and declared facts, without state —
//! per request (agent, address, the SDK's signals, request headers) and per event (an ad
//! slot nobody can see; a click dispatched by script).

use http::HeaderMap;
use sightline_proto::v1::{AdImpression, ClientSignals, Event, IvtReason, event::Kind};

use super::Verdict;
use crate::enrich::Enrichment;

/// Smallest slot a person can see: the MRC rule treats ads under 2×2 CSS pixels as not
/// viewable (tracking pixels and stuffed ads use 0×0 or 1×1).
const MIN_SLOT_PX: u32 = 2;

/// The reasons that apply to every event of a request.
pub fn request(
    enrichment: &Enrichment,
    user_agent: &str,
    signals: Option<&ClientSignals>,
    headers: &HeaderMap,
) -> Verdict {
    let mut v = Verdict::default();
    if user_agent.trim().is_empty() {
        // Every browser sends one; its absence is a script's HTTP client.
        v.add(IvtReason::NoUserAgent);
    }
    if enrichment.agent.crawler {
        v.add(IvtReason::Crawler);
    }
    if signals.is_some_and(|s| s.webdriver) {
        v.add(IvtReason::Automation);
    }
    if signals.is_some_and(|s| s.prerendering) || prefetch(headers) {
        v.add(IvtReason::Prerender);
    }
    if enrichment.datacenter() {
        v.add(IvtReason::Datacenter);
    }
    v
}

/// `Sec-Purpose: prefetch` (and the older `Purpose` / `X-Moz` headers) mark speculative
/// requests nobody asked for yet.
fn prefetch(headers: &HeaderMap) -> bool {
    ["sec-purpose", "purpose", "x-purpose", "x-moz"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .any(|value| {
            let value = value.to_ascii_lowercase();
            value.contains("prefetch") || value.contains("prerender") || value.contains("preview")
        })
}

/// The stateless reasons of one event.
pub fn event(event: &Event) -> Verdict {
    let mut v = Verdict::default();
    match &event.kind {
        Some(Kind::AdImpression(imp)) => {
            if slot_tiny(imp) {
                v.add(IvtReason::SlotTiny);
            }
            if imp.slot_transparent || imp.slot_hidden {
                v.add(IvtReason::SlotHidden);
            }
        }
        Some(Kind::AdClick(click)) if click.synthetic => v.add(IvtReason::SyntheticClick),
        _ => {}
    }
    v
}

/// The SDK's flag, or — checked here whatever the SDK says — a measured slot rectangle
/// below 2×2 (a rectangle the SDK did not measure, all zero, says nothing).
fn slot_tiny(imp: &AdImpression) -> bool {
    let measured_tiny = |r: &sightline_proto::v1::Rect| {
        (r.width, r.height) != (0, 0) && (r.width < MIN_SLOT_PX || r.height < MIN_SLOT_PX)
    };
    imp.slot_tiny
        || imp.page_rect.as_ref().is_some_and(measured_tiny)
        || imp.viewport_rect.as_ref().is_some_and(measured_tiny)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::user_agent::AgentInfo;
    use http::HeaderValue;
    use sightline_proto::v1::{AdClick, NetworkInfo, Rect};

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    fn reasons(v: Verdict) -> Vec<IvtReason> {
        v.values()
            .map(|r| IvtReason::try_from(r).unwrap_or_default())
            .collect()
    }

    #[test]
    fn an_ordinary_browser_request_is_valid() {
        let v = request(
            &Enrichment::default(),
            CHROME,
            Some(&ClientSignals::default()),
            &HeaderMap::new(),
        );
        assert!(v.is_valid());
        let v = request(&Enrichment::default(), CHROME, None, &HeaderMap::new());
        assert!(v.is_valid());
    }

    #[test]
    fn each_request_rule_on_its_own() {
        let crawler = Enrichment {
            agent: AgentInfo {
                crawler: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            reasons(request(&crawler, "Googlebot", None, &HeaderMap::new())),
            vec![IvtReason::Crawler]
        );
        assert_eq!(
            reasons(request(
                &Enrichment::default(),
                " ",
                None,
                &HeaderMap::new()
            )),
            vec![IvtReason::NoUserAgent]
        );
        let webdriver = ClientSignals {
            webdriver: true,
            ..Default::default()
        };
        assert_eq!(
            reasons(request(
                &Enrichment::default(),
                CHROME,
                Some(&webdriver),
                &HeaderMap::new()
            )),
            vec![IvtReason::Automation]
        );
        let prerendering = ClientSignals {
            prerendering: true,
            ..Default::default()
        };
        assert_eq!(
            reasons(request(
                &Enrichment::default(),
                CHROME,
                Some(&prerendering),
                &HeaderMap::new()
            )),
            vec![IvtReason::Prerender]
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "sec-purpose",
            HeaderValue::from_static("prefetch;prerender"),
        );
        assert_eq!(
            reasons(request(&Enrichment::default(), CHROME, None, &headers)),
            vec![IvtReason::Prerender]
        );
        let dc = Enrichment {
            network: Some(NetworkInfo {
                asn: 16509,
                datacenter: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            reasons(request(&dc, CHROME, None, &HeaderMap::new())),
            vec![IvtReason::Datacenter]
        );
        let isp = Enrichment {
            network: Some(NetworkInfo {
                asn: 9829,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(request(&isp, CHROME, None, &HeaderMap::new()).is_valid());
    }

    fn impression(imp: AdImpression) -> Event {
        Event {
            kind: Some(Kind::AdImpression(imp)),
            ..Default::default()
        }
    }

    #[test]
    fn unseeable_slots() {
        let rect = |width, height| {
            Some(Rect {
                x: 0,
                y: 0,
                width,
                height,
            })
        };
        let normal = AdImpression {
            page_rect: rect(300, 250),
            viewport_rect: rect(300, 250),
            ..Default::default()
        };
        assert!(event(&impression(normal.clone())).is_valid());
        // Unmeasured: nothing to say.
        assert!(event(&impression(AdImpression::default())).is_valid());
        for tiny in [
            AdImpression {
                slot_tiny: true,
                ..normal.clone()
            },
            AdImpression {
                page_rect: rect(1, 1),
                ..normal.clone()
            },
            AdImpression {
                viewport_rect: rect(300, 1),
                ..normal.clone()
            },
        ] {
            assert_eq!(reasons(event(&impression(tiny))), vec![IvtReason::SlotTiny]);
        }
        for hidden in [
            AdImpression {
                slot_transparent: true,
                ..normal.clone()
            },
            AdImpression {
                slot_hidden: true,
                ..normal.clone()
            },
        ] {
            assert_eq!(
                reasons(event(&impression(hidden))),
                vec![IvtReason::SlotHidden]
            );
        }
    }

    #[test]
    fn script_dispatched_clicks() {
        let click = |synthetic| Event {
            kind: Some(Kind::AdClick(AdClick {
                synthetic,
                ..Default::default()
            })),
            ..Default::default()
        };
        assert!(event(&click(false)).is_valid());
        assert_eq!(
            reasons(event(&click(true))),
            vec![IvtReason::SyntheticClick]
        );
    }
}
