//! One Kafka record → one printable line per event: decoded by topic and record layout
//! (`sightline_proto::record`: v1 = one event per record, v2 = several length-delimited
//! events), with its Kafka coordinates.

use prost::Message as _;
use rdkafka::{
    Message, Timestamp,
    message::{BorrowedMessage, Headers},
};
use serde::Serialize;
use sightline_proto::{
    TOPIC_SUFFIXES,
    record::Layout,
    v1::{AdDecision, CollectedEvent, PrivacyMode, RejectedEvent},
};

#[derive(Debug, Serialize)]
pub struct Line {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Position of the event in its record: 0 in a v1 record (one event), 0.. in a v2
    /// record (all of a request's events).
    pub index: usize,
    /// Record key: the user id, else the anonymous id. Not UTF-8 keys are shown lossily.
    pub key: Option<String>,
    /// Broker/producer timestamp of the record.
    pub timestamp_ms: Option<i64>,
    /// Event kind by name (`EventKind::name`, or `rejected`; see `filter::kind_names`),
    /// "unknown" when undecodable.
    pub kind: &'static str,
    /// The identity mode the collector enforced, by name (`persistent`, `cookieless`,
    /// `restricted`; `unspecified` for records from before issue 18); the event's own
    /// `privacy_mode` is the enum's number. With it, `visitor_id`, `pii_redactions` and
    /// `identity_stripped` are in the event (docs/privacy.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_mode: Option<&'static str>,
    #[serde(flatten)]
    pub body: Body,
}

/// The name of a `PrivacyMode` value, as in docs/privacy.md.
pub fn privacy_mode_name(value: i32) -> &'static str {
    match PrivacyMode::try_from(value).unwrap_or(PrivacyMode::Unspecified) {
        PrivacyMode::Unspecified => "unspecified",
        PrivacyMode::Persistent => "persistent",
        PrivacyMode::Cookieless => "cookieless",
        PrivacyMode::Restricted => "restricted",
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    Collected(Box<CollectedEvent>),
    Rejected(Box<RejectedEvent>),
    /// A sightline-decide decision (topic `ad_decisions`).
    Decision(Box<AdDecision>),
    /// Printed rather than skipped: a record nobody can decode is worth seeing.
    Undecodable {
        error: String,
    },
}

impl Line {
    /// Every event of the record, in order (one line for a record that does not decode).
    pub fn from_message(message: &BorrowedMessage<'_>, prefix: &str) -> Vec<Self> {
        let topic = message.topic();
        let payload = message.payload().unwrap_or_default();
        let suffix = topic.strip_prefix(prefix);
        let is_rejected = suffix == Some(TOPIC_SUFFIXES.rejected);
        let is_decision = suffix == Some(TOPIC_SUFFIXES.ad_decisions);
        let headers: Vec<(&str, Option<&[u8]>)> = message
            .headers()
            .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
            .unwrap_or_default();
        let line = |index: usize, (kind, body): (&'static str, Body)| Self {
            topic: topic.to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            index,
            key: message
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            timestamp_ms: match message.timestamp() {
                Timestamp::NotAvailable => None,
                Timestamp::CreateTime(ms) | Timestamp::LogAppendTime(ms) => Some(ms),
            },
            kind,
            privacy_mode: match &body {
                Body::Collected(c) => Some(privacy_mode_name(c.privacy_mode)),
                _ => None,
            },
            body,
        };
        let decoded = if is_decision {
            vec![decode_decision(payload)]
        } else {
            decode(&headers, payload, is_rejected)
        };
        decoded
            .into_iter()
            .enumerate()
            .map(|(index, decoded)| line(index, decoded))
            .collect()
    }
}

/// (kind, body) of every event in a record value.
fn decode(
    headers: &[(&str, Option<&[u8]>)],
    payload: &[u8],
    is_rejected: bool,
) -> Vec<(&'static str, Body)> {
    if is_rejected {
        return vec![match RejectedEvent::decode(payload) {
            Ok(rejected) => (TOPIC_SUFFIXES.rejected, Body::Rejected(Box::new(rejected))),
            Err(err) => undecodable(err.to_string()),
        }];
    }
    let layout = match Layout::of_headers(headers.iter().copied()) {
        Ok(layout) => layout,
        Err(err) => return vec![undecodable(err.to_string())],
    };
    sightline_proto::record::events(layout, payload)
        .map(|event| match event {
            Ok(collected) => (
                collected.kind().name(),
                Body::Collected(Box::new(collected)),
            ),
            Err(err) => undecodable(err.to_string()),
        })
        .collect()
}

/// Kind name of decision lines (`--kind ad_decision`).
pub const DECISION_KIND: &str = "ad_decision";

fn decode_decision(payload: &[u8]) -> (&'static str, Body) {
    match AdDecision::decode(payload) {
        Ok(decision) => (DECISION_KIND, Body::Decision(Box::new(decision))),
        Err(err) => undecodable(err.to_string()),
    }
}

fn undecodable(error: String) -> (&'static str, Body) {
    ("unknown", Body::Undecodable { error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::{
        record::{LAYOUT_DELIMITED_V2, LAYOUT_HEADER},
        v1::{Event, EventKind, Search, event::Kind},
    };

    #[test]
    fn collected_events_decode_with_kind_name_and_hex_ids() {
        let collected = CollectedEvent {
            kind: EventKind::Search as i32,
            user_key: "asha".into(),
            event: Some(Event {
                event_id: vec![0xab; 16],
                kind: Some(Kind::Search(Search {
                    query: "calculus".into(),
                    results_count: 3,
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (kind, body) = decode(&[], &collected.encode_to_vec(), false).remove(0);
        assert_eq!(kind, "search");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["collected"]["event"]["event_id"], "ab".repeat(16));
        assert_eq!(json["collected"]["user_key"], "asha");
    }

    #[test]
    fn privacy_fields_are_printed() {
        let collected = CollectedEvent {
            privacy_mode: PrivacyMode::Cookieless as i32,
            visitor_id: "5d41402abc4b2a76b9719d911017c592".into(),
            pii_redactions: 2,
            identity_stripped: true,
            ..Default::default()
        };
        let (_, body) = decode(&[], &collected.encode_to_vec(), false).remove(0);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json["collected"]["visitor_id"],
            "5d41402abc4b2a76b9719d911017c592"
        );
        assert_eq!(json["collected"]["pii_redactions"], 2);
        assert_eq!(json["collected"]["identity_stripped"], true);
        assert_eq!(privacy_mode_name(collected.privacy_mode), "cookieless");
        assert_eq!(privacy_mode_name(0), "unspecified");
        assert_eq!(privacy_mode_name(99), "unspecified");
    }

    #[test]
    fn an_imported_events_app_is_printed() {
        let collected = CollectedEvent {
            app: Some(sightline_proto::v1::AppInfo {
                name: "CampusLearn".into(),
                version: "4.2.0".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (_, body) = decode(&[], &collected.encode_to_vec(), false).remove(0);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["collected"]["app"]["name"], "CampusLearn");
        assert_eq!(json["collected"]["app"]["version"], "4.2.0");
    }

    #[test]
    fn an_ads_decision_is_printed() {
        let ad = sightline_proto::v1::Ad {
            slot_id: "sidebar".into(),
            creative_id: "bootcamp-v2-300x250".into(),
            decision_id: "5f0c1e2d3b4a59687766554433221100".into(),
            decision_policy: "behavioural".into(),
            decision_variant: "personalized".into(),
            ..Default::default()
        };
        let collected = CollectedEvent {
            kind: EventKind::AdClick as i32,
            event: Some(Event {
                kind: Some(Kind::AdClick(sightline_proto::v1::AdClick {
                    ad: Some(ad),
                    ..Default::default()
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (kind, body) = decode(&[], &collected.encode_to_vec(), false).remove(0);
        assert_eq!(kind, "ad_click");
        let json = serde_json::to_value(&body).unwrap();
        let ad = &json["collected"]["event"]["kind"]["AdClick"]["ad"];
        assert_eq!(ad["decision_id"], "5f0c1e2d3b4a59687766554433221100");
        assert_eq!(ad["decision_policy"], "behavioural");
        assert_eq!(ad["decision_variant"], "personalized");
    }

    #[test]
    fn decision_records_are_printed_with_their_policy() {
        let decision = AdDecision {
            decision_id: "ab".repeat(16),
            policy: "behavioural".into(),
            variant: "personalized".into(),
            visitor_key: "stu-asha".into(),
            ..Default::default()
        };
        let (kind, body) = decode_decision(&decision.encode_to_vec());
        assert_eq!(kind, "ad_decision");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["decision"]["policy"], "behavioural");
        assert_eq!(json["decision"]["visitor_key"], "stu-asha");
    }

    #[test]
    fn rejected_topic_decodes_rejected_events() {
        let rejected = RejectedEvent {
            reason: "missing_event_id".into(),
            ..Default::default()
        };
        let (kind, body) = decode(&[], &rejected.encode_to_vec(), true).remove(0);
        assert_eq!(kind, "rejected");
        assert!(matches!(body, Body::Rejected(r) if r.reason == "missing_event_id"));
    }

    #[test]
    fn garbage_is_reported_not_dropped() {
        let (kind, body) = decode(&[], &[0xff, 0xff, 0xff], false).remove(0);
        assert_eq!(kind, "unknown");
        assert!(matches!(body, Body::Undecodable { .. }));
        let unknown = [(LAYOUT_HEADER, Some(&b"delimited-v9"[..]))];
        let (kind, _) = decode(&unknown, &[], false).remove(0);
        assert_eq!(kind, "unknown");
    }

    #[test]
    fn a_v2_record_is_one_line_per_event_in_order() {
        let mut value = Vec::new();
        for (kind, query) in [(EventKind::Search, "a"), (EventKind::Click, "")] {
            let collected = CollectedEvent {
                kind: kind as i32,
                user_key: query.into(),
                ..Default::default()
            };
            sightline_proto::record::push_delimited(&collected, &mut value);
        }
        let headers = [(LAYOUT_HEADER, Some(LAYOUT_DELIMITED_V2.as_bytes()))];
        let kinds: Vec<&str> = decode(&headers, &value, false)
            .into_iter()
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(kinds, ["search", "click"]);
    }

    #[test]
    fn every_kind_name_is_accepted_by_the_filter() {
        for kind in EventKind::ALL {
            assert!(crate::filter::kind_names().any(|name| name == kind.name()));
        }
    }
}
