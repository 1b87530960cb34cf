//! Which identity mode a batch gets, and what each mode removes (issue 18,
//! docs/privacy.md "Identity modes").

use sightline_proto::v1::{Batch, ConsentPurposes, ConsentState, EventKind, PrivacyMode};

/// The mode the collector enforces: RESTRICTED for a known minor or a batch that says
/// RESTRICTED, whatever else it claims; COOKIELESS when the batch says so (or, with
/// `denied_storage_is_cookieless`, an old-style batch without a mode whose consent
/// denies storage or personalization); PERSISTENT otherwise, including old SDKs'
/// batches without a mode. Unknown mode values count as unspecified (proto rule 4).
pub fn effective(
    mode: i32,
    consent: Option<&ConsentPurposes>,
    denied_storage_is_cookieless: bool,
) -> PrivacyMode {
    let mode = PrivacyMode::try_from(mode).unwrap_or(PrivacyMode::Unspecified);
    let minor = consent.is_some_and(|c| c.minor);
    if minor || mode == PrivacyMode::Restricted {
        return PrivacyMode::Restricted;
    }
    if mode == PrivacyMode::Cookieless {
        return PrivacyMode::Cookieless;
    }
    let denied = |state: i32| state == ConsentState::Denied as i32;
    if mode == PrivacyMode::Unspecified
        && denied_storage_is_cookieless
        && consent.is_some_and(|c| denied(c.storage) || denied(c.personalization))
    {
        return PrivacyMode::Cookieless;
    }
    PrivacyMode::Persistent
}

/// The mode's name in metrics and docs.
pub fn label(mode: PrivacyMode) -> &'static str {
    match mode {
        PrivacyMode::Unspecified | PrivacyMode::Persistent => "persistent",
        PrivacyMode::Cookieless => "cookieless",
        PrivacyMode::Restricted => "restricted",
    }
}

/// Kinds a RESTRICTED batch may carry: page views and aggregate ad measurement (display and
/// video: impressions, viewability, quartiles, ad clicks). Clicks,
/// scrolls, hovers, searches and custom events are behavioural monitoring (DPDP Act
/// s.9(3)) and are refused.
pub fn allowed_when_restricted(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::PageView | EventKind::AdImpression | EventKind::AdClick | EventKind::AdVideo
    )
}

/// Removes from `batch` the identity `mode` forbids: the anonymous and user ids and the
/// traits (COOKIELESS and RESTRICTED), and the experiment assignments (RESTRICTED: an
/// assignment follows the person). The session and page-session ids stay: they are
/// random, never outlive the browser session, and are what the day's analytics need.
/// Returns how many items were removed (0: the page behaved).
pub fn strip_identity(batch: &mut Batch, mode: PrivacyMode) -> u32 {
    let mut removed = 0;
    if matches!(mode, PrivacyMode::Cookieless | PrivacyMode::Restricted) {
        if let Some(identity) = batch.identity.as_mut() {
            for id in [&mut identity.anonymous_id, &mut identity.user_id] {
                if !id.is_empty() {
                    id.clear();
                    removed += 1;
                }
            }
            if !identity.traits.is_empty() {
                identity.traits.clear();
                removed += 1;
            }
        }
    }
    if mode == PrivacyMode::Restricted && !batch.experiments.is_empty() {
        batch.experiments.clear();
        removed += 1;
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::Identity;

    fn consent(storage: ConsentState, minor: bool) -> ConsentPurposes {
        ConsentPurposes {
            measurement: ConsentState::Granted as i32,
            storage: storage as i32,
            minor,
            ..Default::default()
        }
    }

    #[test]
    fn the_strictest_applicable_mode_wins() {
        use PrivacyMode::*;
        let granted = consent(ConsentState::Granted, false);
        let denied = consent(ConsentState::Denied, false);
        let minor = consent(ConsentState::Granted, true);
        for (mode, consent, expected) in [
            (Unspecified, None, Persistent),
            (Unspecified, Some(&granted), Persistent),
            (Unspecified, Some(&denied), Cookieless),
            (Persistent, Some(&denied), Persistent),
            (Persistent, Some(&minor), Restricted),
            (Cookieless, Some(&granted), Cookieless),
            (Cookieless, Some(&minor), Restricted),
            (Restricted, None, Restricted),
        ] {
            assert_eq!(effective(mode as i32, consent, true), expected, "{mode:?}");
        }
        assert_eq!(
            effective(Unspecified as i32, Some(&denied), false),
            Persistent
        );
        // An unknown value is unspecified.
        assert_eq!(effective(99, None, true), Persistent);
    }

    #[test]
    fn each_mode_strips_what_it_forbids() {
        let batch = || Batch {
            identity: Some(Identity {
                anonymous_id: "a".into(),
                user_id: "u".into(),
                session_id: "s".into(),
                page_session_id: "p".into(),
                traits: [("college".to_owned(), "IIT".to_owned())].into(),
            }),
            experiments: [("exp".to_owned(), "B".to_owned())].into(),
            ..Default::default()
        };
        let mut b = batch();
        assert_eq!(strip_identity(&mut b, PrivacyMode::Persistent), 0);
        assert_eq!(b, batch());
        assert_eq!(strip_identity(&mut b, PrivacyMode::Cookieless), 3);
        let identity = b.identity.clone().unwrap();
        assert_eq!(
            (identity.anonymous_id.as_str(), identity.user_id.as_str()),
            ("", "")
        );
        assert!(identity.traits.is_empty());
        assert_eq!(identity.session_id, "s");
        assert_eq!(
            b.experiments.len(),
            1,
            "cookieless keeps the page's assignment"
        );
        let mut b = batch();
        assert_eq!(strip_identity(&mut b, PrivacyMode::Restricted), 4);
        assert!(b.experiments.is_empty());
        assert_eq!(b.identity.unwrap().page_session_id, "p");
    }

    #[test]
    fn restricted_keeps_page_views_and_ad_measurement_only() {
        let kept: Vec<EventKind> = EventKind::ALL
            .into_iter()
            .filter(|k| allowed_when_restricted(*k))
            .collect();
        assert_eq!(
            kept,
            [
                EventKind::PageView,
                EventKind::AdImpression,
                EventKind::AdClick,
                EventKind::AdVideo
            ]
        );
    }
}
