//! Records from a processed batch: accepted events laid out as `routing.records` says
//! (one v2 record per batch on the events topic, one v2 record per kind on the kind's
//! topic, or one v1 record per event on the kind's topic), keyed by user; rejects to the
//! dead-letter topic, one per record; hot users' events to the overflow topic, unkeyed.
//!
//! The layouts are the Kafka record contract of proto/README.md; `sightline_proto::record`
//! reads them all.

pub mod encoder;

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use prost::Message;
use sightline_proto::{record::LAYOUT_DELIMITED_V2, v1::EventKind};

pub use encoder::CollectedEncoder;

use crate::{
    config::{RecordLayout, RoutingConfig},
    payload::{AcceptedEvent, Processed},
    sinks::{Record, RecordHeaders},
};

pub const SCHEMA_COLLECTED: &str = "sightline.v1.CollectedEvent";
pub const SCHEMA_REJECTED: &str = "sightline.v1.RejectedEvent";

/// The resolved routing table.
#[derive(Debug, Clone)]
pub struct Router {
    by_kind: BTreeMap<i32, Arc<str>>,
    events: Arc<str>,
    rejected: Arc<str>,
    overflow: Arc<str>,
    layout: RecordLayout,
    max_record_bytes: usize,
}

/// Where one group of accepted events goes.
struct Destination<'a> {
    topic: &'a Arc<str>,
    key: Option<&'a str>,
    site: &'a str,
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
            events: full(&config.topic),
            rejected: full(&config.rejected),
            overflow: full(&config.overflow),
            layout: config.records,
            max_record_bytes: config.max_record_bytes,
        }
    }

    /// Topic of an event kind; unknown kinds (never accepted) go to the dead letter.
    pub fn topic(&self, kind: i32) -> &Arc<str> {
        self.by_kind.get(&kind).unwrap_or(&self.rejected)
    }

    /// Topic of the `per_batch` layout.
    pub fn events_topic(&self) -> &Arc<str> {
        &self.events
    }

    pub fn rejected_topic(&self) -> &Arc<str> {
        &self.rejected
    }

    pub fn overflow_topic(&self) -> &Arc<str> {
        &self.overflow
    }

    pub fn layout(&self) -> RecordLayout {
        self.layout
    }

    /// Turns a processed batch into records. With `overflow`, accepted events go to the
    /// overflow topic without a key so one hot user cannot swamp one partition.
    pub fn route(&self, processed: &Processed, site: &str, overflow: bool) -> Vec<Record> {
        let accepted = &processed.accepted;
        let mut records = Vec::with_capacity(
            match self.layout {
                RecordLayout::PerEvent => accepted.len(),
                _ => 1,
            } + processed.rejected.len(),
        );
        if !accepted.is_empty() {
            let encoder = CollectedEncoder::new(&processed.shared);
            let key = (!overflow).then_some(processed.shared.user_key.as_str());
            let destination = |topic| Destination { topic, key, site };
            match self.layout {
                RecordLayout::PerBatch => {
                    let topic = if overflow {
                        &self.overflow
                    } else {
                        &self.events
                    };
                    self.delimited(&encoder, accepted.iter(), &destination(topic), &mut records);
                }
                RecordLayout::PerKind => {
                    // Kinds in the order they first appear; each kind's events in order.
                    let mut seen = 0u64;
                    for first in accepted {
                        let bit = kind_bit(first.kind);
                        if seen & bit != 0 {
                            continue;
                        }
                        seen |= bit;
                        let topic = if overflow {
                            &self.overflow
                        } else {
                            self.topic(first.kind)
                        };
                        let same = accepted.iter().filter(|e| e.kind == first.kind);
                        self.delimited(&encoder, same, &destination(topic), &mut records);
                    }
                }
                RecordLayout::PerEvent => {
                    for event in accepted {
                        let topic = if overflow {
                            &self.overflow
                        } else {
                            self.topic(event.kind)
                        };
                        records.push(Record {
                            topic: topic.clone(),
                            key: key.map(str::to_owned),
                            payload: encoder.encode(event),
                            headers: RecordHeaders {
                                schema: SCHEMA_COLLECTED.into(),
                                kind: kind_name(event.kind).into(),
                                site: site.to_owned(),
                                layout: None,
                            },
                        });
                    }
                }
            }
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
                    layout: None,
                },
            });
        }
        records
    }

    /// Layout v2: `events` length-delimited into as few records as `max_record_bytes`
    /// allows (one unless the batch is larger), in order. Each record's value is one
    /// buffer sized up front; events are written into it, never allocated one by one.
    fn delimited<'e>(
        &self,
        encoder: &CollectedEncoder,
        events: impl Iterator<Item = &'e AcceptedEvent> + Clone,
        to: &Destination<'_>,
        out: &mut Vec<Record>,
    ) {
        let max = self.max_record_bytes;
        // A first pass for the exact size, so the buffer never grows while writing.
        let total: usize = events
            .clone()
            .map(|e| encoder.size(e).delimited_len())
            .sum();
        let mut payload = Vec::with_capacity(total.min(max));
        let mut kinds = 0u64;
        let mut left = total;
        for event in events {
            let size = encoder.size(event);
            let len = size.delimited_len();
            // An event larger than the limit on its own still gets its own record (the
            // body limits keep it far below the broker's).
            if !payload.is_empty() && payload.len() + len > max {
                out.push(delimited_record(to, std::mem::take(&mut payload), kinds));
                payload.reserve_exact(left.min(max));
                kinds = 0;
            }
            encoder.write_delimited(event, size, &mut payload);
            kinds |= kind_bit(event.kind);
            left -= len;
        }
        if !payload.is_empty() {
            out.push(delimited_record(to, payload, kinds));
        }
    }
}

fn kind_name(kind: i32) -> &'static str {
    EventKind::try_from(kind)
        .unwrap_or(EventKind::Unspecified)
        .name()
}

/// Bit of a kind in a set of kinds (kinds beyond 63 share the last bit; there are 9).
fn kind_bit(kind: i32) -> u64 {
    1 << kind.clamp(0, 63)
}

/// The `kind` header of a v2 record: the kinds in it, by name, comma separated in
/// `EventKind` order (borrowed when there is one).
fn kinds_header(kinds: u64) -> Cow<'static, str> {
    let mut names = EventKind::ALL
        .into_iter()
        .filter(|k| kinds & kind_bit(*k as i32) != 0)
        .map(EventKind::name);
    match (names.next(), names.clone().next()) {
        (Some(only), None) => Cow::Borrowed(only),
        (first, _) => {
            let mut joined = first.unwrap_or(EventKind::Unspecified.name()).to_owned();
            for name in names {
                joined.push(',');
                joined.push_str(name);
            }
            Cow::Owned(joined)
        }
    }
}

fn delimited_record(to: &Destination<'_>, payload: Vec<u8>, kinds: u64) -> Record {
    Record {
        topic: to.topic.clone(),
        key: to.key.map(str::to_owned),
        payload,
        headers: RecordHeaders {
            schema: SCHEMA_COLLECTED.into(),
            kind: kinds_header(kinds),
            site: to.site.to_owned(),
            layout: Some(LAYOUT_DELIMITED_V2.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{CollectedEvent, Identity, RejectedEvent};

    fn processed() -> Processed {
        Processed {
            accepted: vec![AcceptedEvent {
                kind: EventKind::AdImpression as i32,
                event: Default::default(),
                event_time_ms: 1,
                ivt: Default::default(),
                pii_redactions: 0,
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

    fn per_event() -> RoutingConfig {
        RoutingConfig {
            records: RecordLayout::PerEvent,
            ..Default::default()
        }
    }

    #[test]
    fn per_batch_is_one_v2_record_on_the_events_topic() {
        let router = Router::new(&RoutingConfig::default());
        let mut processed = processed();
        processed.accepted.push(AcceptedEvent {
            kind: EventKind::Click as i32,
            event: Default::default(),
            event_time_ms: 2,
            ivt: Default::default(),
            pii_redactions: 0,
        });
        let records = router.route(&processed, "demo", false);
        assert_eq!(records.len(), 2);
        assert_eq!(&*records[0].topic, "sightline.events");
        assert_eq!(records[0].key.as_deref(), Some("u1"));
        assert_eq!(records[0].headers.kind, "click,ad_impression");
        assert_eq!(records[0].headers.layout.as_deref(), Some("delimited-v2"));
        let layout = records[0].headers.layout.as_deref().map(str::as_bytes);
        let events: Vec<CollectedEvent> = sightline_proto::record::read_record(
            [(RecordHeaders::LAYOUT, layout)],
            &records[0].payload,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::AdImpression as i32);
        assert_eq!(events[1].event_time_ms, 2);
        assert_eq!(&*records[1].topic, "sightline.rejected");
        assert_eq!(records[1].headers.layout, None);
    }

    #[test]
    fn per_kind_is_one_v2_record_per_kind_on_its_topic() {
        let router = Router::new(&RoutingConfig {
            records: RecordLayout::PerKind,
            ..Default::default()
        });
        let mut processed = processed();
        for (kind, time) in [(EventKind::Click, 2), (EventKind::AdImpression, 3)] {
            processed.accepted.push(AcceptedEvent {
                kind: kind as i32,
                event: Default::default(),
                event_time_ms: time,
                ivt: Default::default(),
                pii_redactions: 0,
            });
        }
        let records = router.route(&processed, "demo", false);
        let topics: Vec<&str> = records.iter().map(|r| &*r.topic).collect();
        assert_eq!(
            topics,
            [
                "sightline.ad_impressions",
                "sightline.clicks",
                "sightline.rejected"
            ]
        );
        assert_eq!(records[0].headers.kind, "ad_impression");
        let times: Vec<i64> = sightline_proto::record::events(
            sightline_proto::record::Layout::DelimitedV2,
            &records[0].payload,
        )
        .map(|e| e.unwrap().event_time_ms)
        .collect();
        assert_eq!(times, [1, 3]);
    }

    #[test]
    fn a_batch_above_max_record_bytes_is_split_in_order_same_key() {
        let router = Router::new(&RoutingConfig {
            max_record_bytes: 1024,
            ..Default::default()
        });
        let mut processed = processed();
        processed.rejected.clear();
        processed.accepted = (1..=40)
            .map(|i| AcceptedEvent {
                kind: EventKind::Search as i32,
                event: sightline_proto::v1::Event {
                    event_id: vec![i as u8; 16],
                    ..Default::default()
                },
                event_time_ms: i,
                ivt: Default::default(),
                pii_redactions: 0,
            })
            .collect();
        let records = router.route(&processed, "demo", false);
        assert!(records.len() > 1, "{} records", records.len());
        let mut times = Vec::new();
        for record in &records {
            assert!(record.payload.len() <= 1024);
            assert_eq!(record.key.as_deref(), Some("u1"));
            times.extend(
                sightline_proto::record::events(
                    sightline_proto::record::Layout::DelimitedV2,
                    &record.payload,
                )
                .map(|e| e.unwrap().event_time_ms),
            );
        }
        assert_eq!(times, (1..=40).collect::<Vec<i64>>());
    }

    #[test]
    fn records_carry_keys_and_headers() {
        let router = Router::new(&per_event());
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
            signals: None,
            privacy_mode: 0,
            consent: None,
        };
        let facts = RequestFacts {
            received_at_ms: now,
            client_ip: "203.0.113.0".into(),
            user_agent: "Mozilla/5.0".into(),
            collector_id: "c1".into(),
        };
        let processed = crate::payload::process(batch, &facts, &LimitsConfig::default());
        assert_eq!(processed.accepted.len(), 2);
        let records = Router::new(&per_event()).route(&processed, "demo", false);
        for (index, record) in records.iter().enumerate() {
            let full = processed.collected(index).unwrap();
            assert_eq!(record.payload, full.encode_to_vec(), "event {index}");
            assert_eq!(
                CollectedEvent::decode(record.payload.as_slice()).unwrap(),
                full
            );
        }
    }

    #[test]
    fn overflow_is_unkeyed() {
        for config in [RoutingConfig::default(), per_event()] {
            let router = Router::new(&config);
            let records = router.route(&processed(), "demo", true);
            assert_eq!(&*records[0].topic, "sightline.overflow");
            assert_eq!(records[0].key, None);
            assert_eq!(&*records[1].topic, "sightline.rejected");
        }
    }

    /// proto/testdata/record_v2_batch_all_kinds.bin is what this encoder writes for
    /// batch_all_kinds; sightline-proto's tests read it back (`SIGHTLINE_BLESS=1`
    /// rewrites it).
    #[test]
    fn golden_v2_record_is_written_byte_for_byte() {
        use crate::{config::LimitsConfig, payload::RequestFacts};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../proto/testdata/");
        let batch = std::fs::read(format!("{dir}batch_all_kinds.binpb")).unwrap();
        let batch = sightline_proto::v1::Batch::decode(batch.as_slice()).unwrap();
        let facts = RequestFacts {
            received_at_ms: batch.sent_at_ms + 250,
            client_ip: "203.0.113.0".into(),
            user_agent: "Mozilla/5.0 (golden)".into(),
            collector_id: "collector-golden".into(),
        };
        let limits = LimitsConfig {
            max_event_age_s: u64::MAX / 1000,
            ..LimitsConfig::default()
        };
        let processed = crate::payload::process(batch, &facts, &limits);
        assert!(processed.rejected.is_empty(), "{:?}", processed.rejected);
        let records = Router::new(&RoutingConfig::default()).route(&processed, "demo", false);
        assert_eq!(records.len(), 1);
        let path = format!("{dir}record_v2_batch_all_kinds.bin");
        if std::env::var_os("SIGHTLINE_BLESS").is_some() {
            std::fs::write(&path, &records[0].payload).unwrap();
        }
        let golden = std::fs::read(&path).unwrap();
        assert_eq!(
            records[0].payload, golden,
            "the v2 encoding changed: a wire contract change (proto/README.md)"
        );
    }
}
