//! One Kafka record → one printable line: decoded by topic, with its Kafka coordinates.

use prost::Message as _;
use rdkafka::{Message, Timestamp, message::BorrowedMessage};
use serde::Serialize;
use sightline_proto::{
    TOPIC_SUFFIXES,
    v1::{CollectedEvent, RejectedEvent},
};

#[derive(Debug, Serialize)]
pub struct Line {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Record key: the user id, else the anonymous id. Not UTF-8 keys are shown lossily.
    pub key: Option<String>,
    /// Broker/producer timestamp of the record.
    pub timestamp_ms: Option<i64>,
    /// Event kind by name (`EventKind::name`, or `rejected`; see `filter::kind_names`),
    /// "unknown" when undecodable.
    pub kind: &'static str,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    Collected(Box<CollectedEvent>),
    Rejected(Box<RejectedEvent>),
    /// Printed rather than skipped: a record nobody can decode is worth seeing.
    Undecodable {
        error: String,
    },
}

impl Line {
    pub fn from_message(message: &BorrowedMessage<'_>, prefix: &str) -> Self {
        let topic = message.topic().to_owned();
        let payload = message.payload().unwrap_or_default();
        let is_rejected = topic.strip_prefix(prefix) == Some(TOPIC_SUFFIXES.rejected);
        let (kind, body) = decode(payload, is_rejected);
        Self {
            partition: message.partition(),
            offset: message.offset(),
            key: message
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            timestamp_ms: match message.timestamp() {
                Timestamp::NotAvailable => None,
                Timestamp::CreateTime(ms) | Timestamp::LogAppendTime(ms) => Some(ms),
            },
            topic,
            kind,
            body,
        }
    }
}

fn decode(payload: &[u8], is_rejected: bool) -> (&'static str, Body) {
    if is_rejected {
        return match RejectedEvent::decode(payload) {
            Ok(rejected) => (TOPIC_SUFFIXES.rejected, Body::Rejected(Box::new(rejected))),
            Err(err) => undecodable(err),
        };
    }
    match CollectedEvent::decode(payload) {
        Ok(collected) => (
            collected.kind().name(),
            Body::Collected(Box::new(collected)),
        ),
        Err(err) => undecodable(err),
    }
}

fn undecodable(err: prost::DecodeError) -> (&'static str, Body) {
    (
        "unknown",
        Body::Undecodable {
            error: err.to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{Event, EventKind, Search, event::Kind};

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
        let (kind, body) = decode(&collected.encode_to_vec(), false);
        assert_eq!(kind, "search");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["collected"]["event"]["event_id"], "ab".repeat(16));
        assert_eq!(json["collected"]["user_key"], "asha");
    }

    #[test]
    fn rejected_topic_decodes_rejected_events() {
        let rejected = RejectedEvent {
            reason: "missing_event_id".into(),
            ..Default::default()
        };
        let (kind, body) = decode(&rejected.encode_to_vec(), true);
        assert_eq!(kind, "rejected");
        assert!(matches!(body, Body::Rejected(r) if r.reason == "missing_event_id"));
    }

    #[test]
    fn garbage_is_reported_not_dropped() {
        let (kind, body) = decode(&[0xff, 0xff, 0xff], false);
        assert_eq!(kind, "unknown");
        assert!(matches!(body, Body::Undecodable { .. }));
    }

    #[test]
    fn every_kind_name_is_accepted_by_the_filter() {
        for kind in EventKind::ALL {
            assert!(crate::filter::kind_names().any(|name| name == kind.name()));
        }
    }
}
