//! Privacy (issue 18): the consent purposes in force, the identity mode they decide and their
//! wire form, all in one `u32` (the *state*). The page-facing parsing — `consent('granted')`,
//! `consent({ measurement, personalization, storage })`, `identify(id, traits, { minor })`,
//! `init({ audience: 'minor' })`, `navigator.globalPrivacyControl`, the TCF module's purposes —
//! is done in `js/dom.js` and `js/modules/tcf.js`, which hand the core a *given* word of the
//! same layout; the core never parses strings for it. The rules are in sdk-wasm/README.md,
//! "Privacy"; the collector enforces the mode again (collector/src/privacy/).
//!
//! Layout (state and given words; `boundary::privacy` is the JS side's copy):
//! - bits 0–1 measurement, 2–3 personalization, 4–5 storage. State: a `ConsentState` (0 not
//!   expressed/pending, 1 granted, 2 denied). Given: 0 unchanged, 1 granted, 2 denied, 3 pending;
//! - bits 6–8 (state only): the `ConsentSource` that set the purposes last;
//! - bit 9 `GPC`, bit 10 `MINOR` (sticky once given), bit 11 `INVALID` (given only: the page
//!   passed something that is not a consent state; reported, nothing else changes).

use alloc::vec::Vec;

use super::{
    config::Consent,
    schema::{batch, consent_purposes as cp, consent_source, privacy_mode},
    wire,
};

/// Shift of each purpose's two bits.
pub const MEASUREMENT: u32 = 0;
pub const PERSONALIZATION: u32 = 2;
pub const STORAGE: u32 = 4;
const SOURCE: u32 = 6;
/// GPC (bit 9), MINOR (bit 10, restricted for the rest of the page) and INVALID (bit 11, a
/// given word from a value that is no consent state): shared with JS.
pub use crate::boundary::privacy::{GPC, INVALID, MINOR};

/// Personalization and storage both denied (bits 2–5).
const NOT_PERSONAL: u32 = 0b1010 << PERSONALIZATION;
const PERSONAL_MASK: u32 = 0b1111 << PERSONALIZATION;

/// Every purpose granted by the site's defaults: the state `init`'s options apply to.
pub const DEFAULT: u32 = 0b01_01_01 | consent_source::DEFAULT << SOURCE;

/// The state after `given` from `source` (a `consent_source`). The page's own `consent()`
/// (`API`) is its explicit decision and stands as given; any other source (init defaults, a
/// TCF CMP) cannot grant personalization or storage over GPC, which denies both and becomes
/// the source when that changed anything.
pub fn apply(state: u32, given: u32, source: u32) -> u32 {
    // Per purpose, without a loop: `set` has the low bit of each given pair (1, 2 or 3),
    // `pending` of each 3, which is 0 (not expressed) in the state.
    let purposes = given & 0x3f;
    let set = (purposes | (purposes >> 1)) & 0b01_01_01;
    let pending = purposes & (purposes >> 1) & 0b01_01_01;
    let mut next = (state & !((set * 3) | (7 << SOURCE)))
        | (purposes & !(pending * 3))
        | (source << SOURCE)
        | (given & (GPC | MINOR));
    if next & GPC != 0 && source != consent_source::API && next & PERSONAL_MASK != NOT_PERSONAL {
        next = (next & !(PERSONAL_MASK | (7 << SOURCE)))
            | NOT_PERSONAL
            | (consent_source::GPC << SOURCE);
    }
    next
}

/// `privacy_mode`: RESTRICTED for a minor; PERSISTENT when personalization and storage are
/// both granted (not expressed is not granted); else COOKIELESS.
pub fn mode(state: u32) -> u32 {
    if state & MINOR != 0 {
        privacy_mode::RESTRICTED
    } else if state & PERSONAL_MASK == 0b0101 << PERSONALIZATION {
        privacy_mode::PERSISTENT
    } else {
        privacy_mode::COOKIELESS
    }
}

/// One purpose's state (`MEASUREMENT`, `PERSONALIZATION`, `STORAGE`).
pub fn purpose(state: u32, shift: u32) -> u32 {
    state >> shift & 3
}

/// What delivery does with measurement: sent when granted, held while not expressed,
/// dropped when denied.
pub fn delivery_consent(state: u32) -> Consent {
    match purpose(state, MEASUREMENT) {
        1 => Consent::Granted,
        2 => Consent::Denied,
        _ => Consent::Pending,
    }
}

/// `Batch.privacy_mode` (11) and `Batch.consent` (12): the last fields of a batch.
pub fn encode(body: &mut Vec<u8>, state: u32) {
    wire::enumeration(body, batch::PRIVACY_MODE, mode(state));
    wire::message(body, batch::CONSENT, |m| {
        wire::enumeration(m, cp::MEASUREMENT, purpose(state, MEASUREMENT));
        wire::enumeration(m, cp::PERSONALIZATION, purpose(state, PERSONALIZATION));
        wire::enumeration(m, cp::STORAGE, purpose(state, STORAGE));
        wire::enumeration(m, cp::SOURCE, state >> SOURCE & 7);
        wire::boolean(m, cp::GPC, state & GPC != 0);
        wire::boolean(m, cp::MINOR, state & MINOR != 0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A given word: one state per purpose (0 unchanged, 1 granted, 2 denied, 3 pending).
    fn given(measurement: u32, personalization: u32, storage: u32) -> u32 {
        measurement | personalization << 2 | storage << 4
    }

    fn source(state: u32) -> u32 {
        state >> SOURCE & 7
    }

    fn purposes(state: u32) -> [u32; 3] {
        [MEASUREMENT, PERSONALIZATION, STORAGE].map(|s| purpose(state, s))
    }

    #[test]
    fn mode_follows_personalization_storage_and_minor() {
        let init = apply(DEFAULT, 0, consent_source::DEFAULT);
        assert_eq!((mode(init), source(init)), (privacy_mode::PERSISTENT, 1));
        assert_eq!(delivery_consent(init), Consent::Granted);
        let pending = apply(DEFAULT, given(3, 3, 3), consent_source::DEFAULT);
        assert_eq!(purposes(pending), [0, 0, 0], "pending is not expressed");
        assert_eq!(
            mode(pending),
            privacy_mode::COOKIELESS,
            "not expressed is not granted"
        );
        assert_eq!(delivery_consent(pending), Consent::Pending);
        for denied in [given(0, 2, 0), given(0, 0, 2)] {
            let state = apply(init, denied, consent_source::API);
            assert_eq!((mode(state), source(state)), (privacy_mode::COOKIELESS, 2));
            assert_eq!(delivery_consent(state), Consent::Granted);
        }
        let measurement_denied = apply(init, given(2, 0, 0), consent_source::API);
        assert_eq!(mode(measurement_denied), privacy_mode::PERSISTENT);
        assert_eq!(delivery_consent(measurement_denied), Consent::Denied);
        let minor = apply(init, MINOR, consent_source::API);
        assert_eq!(mode(minor), privacy_mode::RESTRICTED);
        let still = apply(minor, given(1, 1, 1), consent_source::API);
        assert_eq!(
            mode(still),
            privacy_mode::RESTRICTED,
            "minor is sticky, over any consent"
        );
    }

    #[test]
    fn gpc_denies_personalization_and_storage_unless_the_page_grants_them() {
        let state = apply(DEFAULT, GPC, consent_source::DEFAULT);
        assert_eq!(purposes(state), [1, 2, 2]);
        assert_eq!((mode(state), source(state)), (privacy_mode::COOKIELESS, 4));
        // A CMP granting everything does not override GPC.
        let tcf = apply(state, given(1, 1, 1), consent_source::TCF);
        assert_eq!((purposes(tcf), source(tcf)), ([1, 2, 2], 4));
        let tcf = apply(state, given(1, 2, 2), consent_source::TCF);
        assert_eq!(source(tcf), 3, "nothing left for GPC to change");
        // The page's own consent() is its explicit decision.
        let page = apply(state, given(0, 1, 0), consent_source::API);
        assert_eq!(mode(page), privacy_mode::COOKIELESS);
        let page = apply(page, given(0, 0, 1), consent_source::API);
        assert_eq!((mode(page), source(page)), (privacy_mode::PERSISTENT, 2));
        assert!(page & GPC != 0, "the signal is still reported");
        let pending = apply(DEFAULT, GPC | given(3, 3, 3), consent_source::DEFAULT);
        assert_eq!(purposes(pending), [0, 2, 2]);
    }

    #[test]
    fn tcf_denying_storage_is_cookieless() {
        let init = apply(DEFAULT, 0, consent_source::DEFAULT);
        let tcf = apply(init, given(1, 1, 2), consent_source::TCF);
        assert_eq!((mode(tcf), source(tcf)), (privacy_mode::COOKIELESS, 3));
    }

    #[test]
    fn encodes_mode_and_purposes() {
        use prost::Message;
        let state = apply(DEFAULT, GPC | given(1, 0, 0), consent_source::TCF);
        let mut bytes = Vec::new();
        encode(&mut bytes, state);
        let batch = sightline_proto::v1::Batch::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(batch.privacy_mode, privacy_mode::COOKIELESS as i32);
        let consent = batch.consent.expect("consent");
        assert_eq!(
            (
                consent.measurement,
                consent.personalization,
                consent.storage
            ),
            (1, 2, 2)
        );
        assert_eq!(
            (consent.source, consent.gpc, consent.minor),
            (4, true, false)
        );
        let mut bytes = Vec::new();
        encode(&mut bytes, apply(DEFAULT, MINOR | given(3, 0, 0), 1));
        let batch = sightline_proto::v1::Batch::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(batch.privacy_mode, privacy_mode::RESTRICTED as i32);
        let consent = batch.consent.expect("consent");
        assert_eq!(
            (consent.measurement, consent.source, consent.minor),
            (0, 1, true)
        );
    }
}
