//! Events → interest signals, and the write-side privacy rule.
//!
//! | event | subject from | weight |
//! |---|---|---|
//! | page view | URL `/courses/<id>` (course's subject), `/subject/<slug>` | `page_view` |
//! | search | keywords and subject names in the query (`[keywords]`), split evenly | `search` |
//! | hover | a course link's `href`, else the hovered ad's creative | `hover` |
//! | click | a course link's `href` | `click` |
//! | ad click | the creative (`Ad.creative_id`, size suffix allowed), else its campaign | `ad_click` |
//!
//! Mappings live in the catalogue, not here.

use sightline_proto::v1::{CollectedEvent, ConsentState, Element, PrivacyMode, event::Kind};

use crate::{catalogue::Catalogue, config::SignalWeights};

/// The write-side rule of docs/privacy.md: only events the collector kept in persistent
/// mode, from a visitor who is not a minor, sent no GPC signal and did not deny
/// personalization, may build a profile or count in popularity. Records from before
/// issue 18 (mode unspecified) are not profiled either.
pub fn profiling_allowed(event: &CollectedEvent) -> bool {
    event.privacy_mode == PrivacyMode::Persistent as i32
        && !event.user_key.is_empty()
        && event
            .consent
            .as_ref()
            .is_none_or(|c| c.personalization != ConsentState::Denied as i32 && !c.gpc && !c.minor)
}

/// (subject, weight) of one event; empty when it says nothing about interests.
pub fn signals(
    event: &CollectedEvent,
    catalogue: &Catalogue,
    weights: &SignalWeights,
) -> Vec<(String, f64)> {
    let Some(kind) = event.event.as_ref().and_then(|e| e.kind.as_ref()) else {
        return Vec::new();
    };
    let one = |subject: Option<&str>, weight: f64| -> Vec<(String, f64)> {
        subject
            .map(|s| vec![(s.to_owned(), weight)])
            .unwrap_or_default()
    };
    match kind {
        Kind::PageView(view) => {
            let url = if view.url.is_empty() {
                event.context.as_ref().map_or("", |c| c.url.as_str())
            } else {
                view.url.as_str()
            };
            one(catalogue.subject_of_url(url), weights.page_view)
        }
        Kind::Search(search) => {
            let subjects = catalogue.subjects_of_query(&search.query);
            let share = weights.search / subjects.len().max(1) as f64;
            subjects
                .into_iter()
                .map(|s| (s.to_owned(), share))
                .collect()
        }
        Kind::Hover(hover) => one(
            hover
                .element
                .as_ref()
                .and_then(|e| element_subject(e, catalogue)),
            weights.hover,
        ),
        Kind::Click(click) => one(
            click
                .element
                .as_ref()
                .and_then(|e| element_subject(e, catalogue)),
            weights.click,
        ),
        Kind::AdClick(ad_click) => one(
            ad_click.ad.as_ref().and_then(|ad| {
                catalogue
                    .creative_of_ad(&ad.creative_id, &ad.campaign_id)
                    .map(|c| c.subject.as_str())
            }),
            weights.ad_click,
        ),
        _ => Vec::new(),
    }
}

/// A course link's subject, else the subject of the ad the element is (its
/// `data-ad-creative` / `data-ad-campaign` attributes).
fn element_subject<'c>(element: &Element, catalogue: &'c Catalogue) -> Option<&'c str> {
    if let Some(subject) = catalogue.subject_of_url(&element.href) {
        return Some(subject);
    }
    let attribute = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| element.data.get(*n))
            .map_or("", String::as_str)
    };
    let creative = attribute(&["ad-creative", "adCreative", "ad_creative"]);
    let campaign = attribute(&["ad-campaign", "adCampaign", "ad_campaign"]);
    if creative.is_empty() && campaign.is_empty() {
        return None;
    }
    catalogue
        .creative_of_ad(creative, campaign)
        .map(|c| c.subject.as_str())
}

/// The visitor's college and cohort traits (what identify() sent), for popularity.
pub fn traits(event: &CollectedEvent) -> (&str, &str) {
    let get = |name: &str| {
        event
            .identity
            .as_ref()
            .and_then(|i| i.traits.get(name))
            .map_or("", String::as_str)
    };
    (get("college"), get("cohort"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{
        Ad, AdClick, ConsentPurposes, Event, Hover, PageView, Search, event::Kind as K,
    };

    fn catalogue() -> Catalogue {
        Catalogue::from_toml(include_str!("../catalogue.toml")).unwrap()
    }

    fn event(kind: K) -> CollectedEvent {
        CollectedEvent {
            event: Some(Event {
                kind: Some(kind),
                ..Default::default()
            }),
            user_key: "u1".into(),
            privacy_mode: PrivacyMode::Persistent as i32,
            ..Default::default()
        }
    }

    #[test]
    fn each_signal_maps_to_its_subject_and_weight() {
        let (c, w) = (catalogue(), SignalWeights::default());
        let view = event(K::PageView(PageView {
            url: "http://localhost:5173/courses/linalg".into(),
            ..Default::default()
        }));
        assert_eq!(
            signals(&view, &c, &w),
            vec![("Mathematics".into(), w.page_view)]
        );
        let search = event(K::Search(Search {
            query: "python calculus".into(),
            ..Default::default()
        }));
        let found = signals(&search, &c, &w);
        assert_eq!(found.len(), 2);
        assert!(
            found
                .iter()
                .all(|(_, v)| (*v - w.search / 2.0).abs() < 1e-9)
        );
        let click = event(K::AdClick(AdClick {
            ad: Some(Ad {
                creative_id: "chem-crash-v1-300x250".into(),
                ..Default::default()
            }),
            ..Default::default()
        }));
        assert_eq!(
            signals(&click, &c, &w),
            vec![("Chemistry".into(), w.ad_click)]
        );
        let hover = event(K::Hover(Hover {
            element: Some(Element {
                data: [("ad-campaign".to_owned(), "econ-basics".to_owned())].into(),
                ..Default::default()
            }),
            ..Default::default()
        }));
        assert_eq!(signals(&hover, &c, &w), vec![("Economics".into(), w.hover)]);
        let home = event(K::PageView(PageView {
            url: "http://localhost:5173/".into(),
            ..Default::default()
        }));
        assert!(signals(&home, &c, &w).is_empty());
    }

    #[test]
    fn only_persistent_consenting_adults_without_gpc_are_profiled() {
        let mut e = event(K::PageView(PageView::default()));
        assert!(profiling_allowed(&e));
        let consent = |f: fn(&mut ConsentPurposes)| {
            let mut c = ConsentPurposes::default();
            f(&mut c);
            Some(c)
        };
        e.consent = consent(|c| c.personalization = ConsentState::Granted as i32);
        assert!(profiling_allowed(&e));
        e.consent = consent(|c| c.personalization = ConsentState::Denied as i32);
        assert!(!profiling_allowed(&e));
        e.consent = consent(|c| c.gpc = true);
        assert!(!profiling_allowed(&e));
        e.consent = consent(|c| c.minor = true);
        assert!(!profiling_allowed(&e));
        e.consent = None;
        for mode in [
            PrivacyMode::Cookieless,
            PrivacyMode::Restricted,
            PrivacyMode::Unspecified,
        ] {
            e.privacy_mode = mode as i32;
            assert!(!profiling_allowed(&e), "{mode:?}");
        }
    }
}
