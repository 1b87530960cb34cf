//! Invalid-traffic (IVT) classification, per the MRC's Invalid Traffic guidelines: every
//! accepted event gets a traffic class — `VALID`, `GIVT` (general: routine lists and
//! declared facts, `classify`) or `SIVT` (sophisticated: behaviour across events, with
//! bounded per-user and per-address state, `sivt`) — and the reasons that applied. Events
//! are flagged, never dropped: consumers choose what to count (the analytics count valid
//! traffic only).

pub mod classify;
pub mod sivt;

use std::net::IpAddr;

use sightline_proto::v1::{IvtReason, TrafficClass};

use crate::payload::Processed;
use sivt::Sivt;

/// First `IvtReason` value of the SIVT group (proto/sightline/v1/collected.proto).
const FIRST_SIVT_REASON: i32 = 20;

/// The reasons that applied to one event (a set of `IvtReason` values, all below 64).
/// `Default` is "not classified" (class `UNSPECIFIED`, nothing written): only
/// [`Verdict::classified`] and what is built from it carry a class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdict {
    reasons: u64,
    classified: bool,
}

impl Verdict {
    /// A classified verdict with no reason yet: VALID until one is added.
    pub fn classified() -> Self {
        Self {
            reasons: 0,
            classified: true,
        }
    }

    pub fn add(&mut self, reason: IvtReason) {
        self.classified = true;
        let bit = reason as i32;
        if (1..64).contains(&bit) {
            self.reasons |= 1 << bit;
        }
    }

    pub fn merge(&mut self, other: Verdict) {
        self.reasons |= other.reasons;
        self.classified |= other.classified;
    }

    pub fn has(&self, reason: IvtReason) -> bool {
        let bit = reason as i32;
        (1..64).contains(&bit) && self.reasons & (1 << bit) != 0
    }

    pub fn is_valid(&self) -> bool {
        self.reasons == 0
    }

    /// GIVT when any general reason applied (it is invalid whatever else it did), else
    /// SIVT when a sophisticated one did, else VALID; UNSPECIFIED when not classified.
    pub fn class(&self) -> TrafficClass {
        if !self.classified {
            return TrafficClass::Unspecified;
        }
        let givt_mask = (1u64 << FIRST_SIVT_REASON) - 1;
        if self.reasons & givt_mask != 0 {
            TrafficClass::Givt
        } else if self.reasons != 0 {
            TrafficClass::Sivt
        } else {
            TrafficClass::Valid
        }
    }

    /// The reasons as `IvtReason` values, ascending (the order `ivt_reasons` carries).
    pub fn values(&self) -> impl Iterator<Item = i32> + '_ {
        (1..64).filter(|bit| self.reasons & (1 << bit) != 0)
    }
}

/// Sets every accepted event's verdict: the request's GIVT reasons, the event's own
/// (`classify::event`) and the SIVT rules' (`sivt`, which also learn from the batch).
/// `client` is the full address (kept in memory only, for `ip_many_ids`).
pub fn classify_batch(
    sivt: &Sivt,
    request: Verdict,
    processed: &mut Processed,
    client: IpAddr,
    received_at_ms: i64,
) {
    let mut verdicts: Vec<Verdict> = processed
        .accepted
        .iter()
        .map(|e| {
            let mut v = Verdict::classified();
            v.merge(request);
            v.merge(classify::event(&e.event));
            v
        })
        .collect();
    let anonymous_id = processed
        .shared
        .identity
        .as_ref()
        .map_or("", |i| i.anonymous_id.as_str());
    sivt.observe(
        &processed.shared.user_key,
        anonymous_id,
        client,
        received_at_ms,
        &processed.accepted,
        &mut verdicts,
    );
    for (event, verdict) in processed.accepted.iter_mut().zip(verdicts) {
        event.ivt = verdict;
    }
}

/// The lower-case name of a class or reason (`givt`, `click_burst`): metric labels,
/// ClickHouse values and the documentation all use it.
pub fn class_name(class: TrafficClass) -> String {
    class
        .as_str_name()
        .trim_start_matches("TRAFFIC_CLASS_")
        .to_ascii_lowercase()
}

pub fn reason_name(value: i32) -> String {
    IvtReason::try_from(value)
        .unwrap_or_default()
        .as_str_name()
        .trim_start_matches("IVT_REASON_")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_follows_the_reasons() {
        assert_eq!(Verdict::default().class(), TrafficClass::Unspecified);
        let mut v = Verdict::classified();
        assert_eq!(v.class(), TrafficClass::Valid);
        assert!(v.is_valid());
        v.add(IvtReason::ClickBurst);
        assert_eq!(v.class(), TrafficClass::Sivt);
        v.add(IvtReason::Crawler);
        assert_eq!(v.class(), TrafficClass::Givt);
        assert_eq!(
            v.values().collect::<Vec<_>>(),
            vec![IvtReason::Crawler as i32, IvtReason::ClickBurst as i32]
        );
        assert!(v.has(IvtReason::Crawler) && !v.has(IvtReason::Automation));
        v.add(IvtReason::Unspecified);
        assert_eq!(v.values().count(), 2);
    }

    #[test]
    fn names_come_from_the_contract() {
        assert_eq!(class_name(TrafficClass::Givt), "givt");
        assert_eq!(
            reason_name(IvtReason::ClickWithoutImpression as i32),
            "click_without_impression"
        );
        assert_eq!(reason_name(999), "unspecified");
    }

    #[test]
    fn every_reason_fits_the_set_and_the_groups_are_as_documented() {
        for value in 1..64 {
            if let Ok(reason) = IvtReason::try_from(value) {
                let mut v = Verdict::default();
                v.add(reason);
                let expected = if value < FIRST_SIVT_REASON {
                    TrafficClass::Givt
                } else {
                    TrafficClass::Sivt
                };
                assert_eq!(v.class(), expected, "{reason:?}");
            }
        }
        assert!(
            IvtReason::try_from(64).is_err(),
            "reasons must stay below 64"
        );
    }
}
