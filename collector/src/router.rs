//! Records from a processed batch: topic by event kind from the routing table (prefix +
//! suffix), key by user, rejects to the dead-letter topic, hot users to overflow.

use std::{collections::BTreeMap, sync::Arc};

use prost::Message;
use sightline_proto::v1::{CollectedEvent, EventKind};

use crate::{
    config::RoutingConfig,
    payload::{AcceptedEvent, Processed},
    sinks::{Record, RecordHeaders},
};

pub const SCHEMA_COLLECTED: &str = "sightline.v1.CollectedEvent";
pub const SCHEMA_REJECTED: &str = "sightline.v1.RejectedEvent";

/// Encodes `CollectedEvent`s of one batch: the fields every event of the batch shares
/// are encoded once, and each event's record is its own fields spliced around them.
///
/// The output is byte for byte what `CollectedEvent::encode_to_vec` gives for the full
/// message (prost writes fields in field-number order and skips defaults; the tests
/// check the equality): fields 1 `event` and 2 `kind`, then the shared fields 3–9 and
/// 20 (`head`), then 21 `event_time_ms`, then the shared fields 22–25 (`tail`).
pub struct CollectedEncoder {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl CollectedEncoder {
    /// `shared` has `event`, `kind` and `event_time_ms` at their defaults (as
    /// `Processed::shared`); they are ignored if not.
    pub fn new(shared: &CollectedEvent) -> Self {
        let tail = CollectedEvent {
            client_sent_at_ms: shared.client_sent_at_ms,
            client_ip: shared.client_ip.clone(),
            user_agent: shared.user_agent.clone(),
            collector_id: shared.collector_id.clone(),
            ..Default::default()
        }
        .encode_to_vec();
        let head = CollectedEvent {
            client_sent_at_ms: 0,
            client_ip: String::new(),
            user_agent: String::new(),
            collector_id: String::new(),
            event: None,
            kind: 0,
            event_time_ms: 0,
            ..shared.clone()
        }
        .encode_to_vec();
        Self { head, tail }
    }

    /// The encoded `CollectedEvent` of `accepted` and the shared fields, in one
    /// allocation of the exact size.
    pub fn encode(&self, accepted: &AcceptedEvent) -> Vec<u8> {
        use prost::encoding::{encoded_len_varint, int32, int64, message};
        let event_len = accepted.event.encoded_len();
        let kind_len = if accepted.kind != 0 {
            int32::encoded_len(2, &accepted.kind)
        } else {
            0
        };
        let time_len = if accepted.event_time_ms != 0 {
            int64::encoded_len(21, &accepted.event_time_ms)
        } else {
            0
        };
        let len = 1
            + encoded_len_varint(event_len as u64)
            + event_len
            + kind_len
            + self.head.len()
            + time_len
            + self.tail.len();
        let mut out = Vec::with_capacity(len);
        message::encode(1, &accepted.event, &mut out);
        if kind_len > 0 {
            int32::encode(2, &accepted.kind, &mut out);
        }
        out.extend_from_slice(&self.head);
        if time_len > 0 {
            int64::encode(21, &accepted.event_time_ms, &mut out);
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

/// The resolved routing table.
#[derive(Debug, Clone)]
pub struct Router {
    by_kind: BTreeMap<i32, Arc<str>>,
    rejected: Arc<str>,
    overflow: Arc<str>,
}

impl Router {
    pub fn new(config: &RoutingConfig) -> Self {
        let full = |suffix: &str| -> Arc<str> { format!("{}{suffix}", config.prefix).into() };
        // Kind names (`[routing.topics]` keys) and default suffixes come from sightline-proto.
        let by_kind = EventKind::ALL
            .into_iter()
            .map(|kind| {
                let suffix = config
                    .topics
                    .get(kind.name())
                    .map_or(kind.topic_suffix(), String::as_str);
                (kind as i32, full(suffix))
            })
            .collect();
        Self {
            by_kind,
            rejected: full(&config.rejected),
            overflow: full(&config.overflow),
        }
    }

    /// Topic of an event kind; unknown kinds (never accepted) go to the dead letter.
    pub fn topic(&self, kind: i32) -> &Arc<str> {
        self.by_kind.get(&kind).unwrap_or(&self.rejected)
    }

    pub fn rejected_topic(&self) -> &Arc<str> {
        &self.rejected
    }

    pub fn overflow_topic(&self) -> &Arc<str> {
        &self.overflow
    }

    /// Turns a processed batch into records. With `overflow`, accepted events go to the
    /// overflow topic without a key so one hot user cannot swamp one partition.
    pub fn route(&self, processed: &Processed, site: &str, overflow: bool) -> Vec<Record> {
        let mut records = Vec::with_capacity(processed.accepted.len() + processed.rejected.len());
        let encoder = CollectedEncoder::new(&processed.shared);
        for accepted in &processed.accepted {
            let kind = EventKind::try_from(accepted.kind).unwrap_or(EventKind::Unspecified);
            let (topic, key) = if overflow {
                (self.overflow.clone(), None)
            } else {
                (
                    self.topic(accepted.kind).clone(),
                    Some(processed.shared.user_key.clone()),
                )
            };
            records.push(Record {
                topic,
                key,
                payload: encoder.encode(accepted),
                headers: RecordHeaders {
                    schema: SCHEMA_COLLECTED.into(),
                    kind: kind.name().into(),
                    site: site.to_owned(),
                },
            });
        }
        for rejected in &processed.rejected {
            let kind =
                sightline_proto::kind_of(rejected.event.as_ref().and_then(|e| e.kind.as_ref()));
            let key = rejected.identity.as_ref().map(|i| {
                if i.user_id.is_empty() {
                    i.anonymous_id.clone()
                } else {
                    i.user_id.clone()
                }
            });
            records.push(Record {
                topic: self.rejected.clone(),
                key: key.filter(|k| !k.is_empty()),
                payload: rejected.encode_to_vec(),
                headers: RecordHeaders {
                    schema: SCHEMA_REJECTED.into(),
                    kind: kind.name().into(),
                    site: site.to_owned(),
                },
            });
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{Identity, RejectedEvent};

    fn processed() -> Processed {
        Processed {
            accepted: vec![AcceptedEvent {
                kind: EventKind::AdImpression as i32,
                event: Default::default(),
                event_time_ms: 1,
            }],
            shared: CollectedEvent {
                user_key: "u1".into(),
                ..Default::default()
            },
            rejected: vec![RejectedEvent {
                reason: "missing_event_id".into(),
                identity: Some(Identity {
                    anonymous_id: "a1".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            clock_skew_ms: None,
        }
    }

    #[test]
    fn default_table_uses_prefix_and_topics_txt() {
        let router = Router::new(&RoutingConfig::default());
        assert_eq!(
            &**router.topic(EventKind::PageView as i32),
            "sightline.page_views"
        );
        assert_eq!(
            &**router.topic(EventKind::AdClick as i32),
            "sightline.ad_clicks"
        );
        assert_eq!(&**router.rejected_topic(), "sightline.rejected");
        assert_eq!(&**router.overflow_topic(), "sightline.overflow");
        assert_eq!(&**router.topic(0), "sightline.rejected");
    }

    #[test]
    fn overrides_and_prefix() {
        let mut config = RoutingConfig {
            prefix: "staging.".into(),
            ..Default::default()
        };
        config.topics.insert("click".into(), "ui_clicks".into());
        let router = Router::new(&config);
        assert_eq!(
            &**router.topic(EventKind::Click as i32),
            "staging.ui_clicks"
        );
        assert_eq!(&**router.topic(EventKind::Scroll as i32), "staging.scrolls");
    }

    #[test]
    fn records_carry_keys_and_headers() {
        let router = Router::new(&RoutingConfig::default());
        let records = router.route(&processed(), "demo", false);
        assert_eq!(records.len(), 2);
        assert_eq!(&*records[0].topic, "sightline.ad_impressions");
        assert_eq!(records[0].key.as_deref(), Some("u1"));
        assert_eq!(records[0].headers.kind, "ad_impression");
        assert_eq!(records[0].headers.schema, SCHEMA_COLLECTED);
        assert_eq!(records[0].headers.site, "demo");
        assert_eq!(&*records[1].topic, "sightline.rejected");
        assert_eq!(records[1].key.as_deref(), Some("a1"));
        assert_eq!(records[1].headers.schema, SCHEMA_REJECTED);
        let decoded = CollectedEvent::decode(records[0].payload.as_slice()).unwrap();
        assert_eq!(decoded.user_key, "u1");
    }

    #[test]
    fn spliced_encoding_equals_encoding_the_full_message() {
        use crate::{config::LimitsConfig, payload::RequestFacts};
        use sightline_proto::v1::{Batch, Click, Element, Event, PageContext, Search, event::Kind};
        let now = 1_700_000_000_000;
        let mut experiments = BTreeMap::new();
        experiments.insert("checkout".to_owned(), "b".to_owned());
        let batch = Batch {
            site_key: "demo".into(),
            sdk_version: "0.1.0".into(),
            sent_at_ms: now - 500,
            batch_seq: 7,
            context: Some(PageContext {
                url: "https://example.com/a?b=c".into(),
                referrer: "https://search.example/".into(),
                ..Default::default()
            }),
            identity: Some(Identity {
                anonymous_id: "anon-1".into(),
                user_id: "user-9".into(),
                ..Default::default()
            }),
            experiments,
            events: vec![
                Event {
                    event_id: vec![1; 16],
                    client_ts_ms: now - 900,
                    kind: Some(Kind::Click(Click {
                        element: Some(Element {
                            tag: "button".into(),
                            selector: "main > button.buy".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })),
                    ..Default::default()
                },
                Event {
                    event_id: vec![2; 16],
                    client_ts_ms: now - 500,
                    kind: Some(Kind::Search(Search {
                        query: "shoes".into(),
                        results_count: 3,
                    })),
                    ..Default::default()
                },
            ],
            evicted_batches: 0,
        };
        let facts = RequestFacts {
            received_at_ms: now,
            client_ip: "203.0.113.0".into(),
            user_agent: "Mozilla/5.0".into(),
            collector_id: "c1".into(),
        };
        let processed = crate::payload::process(batch, &facts, &LimitsConfig::default());
        assert_eq!(processed.accepted.len(), 2);
        let records = Router::new(&RoutingConfig::default()).route(&processed, "demo", false);
        for (index, record) in records.iter().enumerate() {
            let full = processed.collected(index).unwrap();
            assert_eq!(record.payload, full.encode_to_vec(), "event {index}");
            assert_eq!(
                CollectedEvent::decode(record.payload.as_slice()).unwrap(),
                full
            );
        }
        // Defaults (kind 0, time 0, nothing shared) are skipped exactly as prost does.
        let bare = AcceptedEvent {
            event: Event::default(),
            kind: 0,
            event_time_ms: 0,
        };
        let encoded = CollectedEncoder::new(&CollectedEvent::default()).encode(&bare);
        let full = CollectedEvent {
            event: Some(Event::default()),
            ..Default::default()
        };
        assert_eq!(encoded, full.encode_to_vec());
    }

    #[test]
    fn overflow_is_unkeyed() {
        let router = Router::new(&RoutingConfig::default());
        let records = router.route(&processed(), "demo", true);
        assert_eq!(&*records[0].topic, "sightline.overflow");
        assert_eq!(records[0].key, None);
        assert_eq!(&*records[1].topic, "sightline.rejected");
    }
}
