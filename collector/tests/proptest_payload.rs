//! Property tests: protobuf round trips, validation invariants, spool frame round trips.

use proptest::prelude::*;
use prost::Message;
use sightline_collector::{
    config::{LimitsConfig, RecordLayout, RoutingConfig},
    payload::{self, RequestFacts, validate::reason},
    routing::Router,
    sinks::{Record, RecordHeaders, spool::codec},
};
use sightline_proto::record::{LAYOUT_DELIMITED_V2, read_record};
use sightline_proto::v1::{
    Batch, Custom, Event, Identity, PageContext, Property, Search, event::Kind, property,
};

const NOW_MS: i64 = 1_700_000_000_000;

fn facts() -> RequestFacts {
    RequestFacts {
        received_at_ms: NOW_MS,
        client_ip: "192.0.2.0".into(),
        user_agent: "proptest".into(),
        collector_id: "proptest".into(),
    }
}

/// Small limits so generated strings cross them often.
fn limits() -> LimitsConfig {
    LimitsConfig {
        max_url_len: 40,
        max_name_len: 12,
        max_string_len: 30,
        max_properties: 3,
        ..LimitsConfig::default()
    }
}

fn kind() -> impl Strategy<Value = Option<Kind>> {
    prop_oneof![
        1 => Just(None),
        3 => ("[a-z ]{0,40}", any::<u32>())
            .prop_map(|(query, results_count)| Some(Kind::Search(Search { query, results_count }))),
        3 => ("[a-z_]{0,16}", prop::collection::vec(("[a-z]{0,14}", "[ -~]{0,34}"), 0..5))
            .prop_map(|(name, props)| Some(Kind::Custom(Custom {
                name,
                properties: props
                    .into_iter()
                    .map(|(key, value)| Property {
                        key,
                        value: Some(property::Value::StringValue(value)),
                    })
                    .collect(),
            }))),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        prop_oneof![
            6 => Just(16usize),
            1 => Just(0usize),
            1 => 1usize..40,
        ],
        any::<u8>(),
        // Around the accepted window (7 days back, 5 min ahead) and far outside it.
        prop_oneof![
            4 => -600_000i64..60_000,
            1 => -(8 * 86_400_000i64)..86_400_000i64,
            1 => any::<i64>(),
        ],
        any::<u64>(),
        kind(),
    )
        .prop_map(|(id_len, fill, offset, seq, kind)| Event {
            event_id: vec![fill; id_len],
            client_ts_ms: NOW_MS.saturating_add(offset),
            seq,
            page_view_id: vec![1; 16],
            kind,
        })
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        "[a-z]{1,8}",
        prop::option::of(("[a-z0-9-]{0,16}", "[a-z0-9-]{0,16}")),
        "http://[a-z./]{0,50}",
        prop_oneof![Just(0i64), (NOW_MS - 3_600_000)..(NOW_MS + 3_600_000)],
        prop::collection::vec(event(), 0..20),
    )
        .prop_map(|(site_key, identity, url, sent_at_ms, events)| Batch {
            site_key,
            sdk_version: "0.1.0".into(),
            sent_at_ms,
            batch_seq: 1,
            context: Some(PageContext {
                url,
                ..Default::default()
            }),
            identity: identity.map(|(anonymous_id, user_id)| Identity {
                anonymous_id,
                user_id,
                ..Default::default()
            }),
            events,
            ..Default::default()
        })
}

fn record() -> impl Strategy<Value = Record> {
    (
        "[a-z.]{1,30}",
        prop::option::of("[ -~]{0,40}"),
        prop::collection::vec(any::<u8>(), 0..600),
        "[ -~]{0,20}",
        "[a-z_]{0,14}",
        any::<bool>(),
    )
        .prop_map(|(topic, key, payload, site, kind, v2)| Record {
            topic: topic.into(),
            key,
            payload,
            headers: RecordHeaders {
                schema: "sightline.v1.CollectedEvent".into(),
                kind: kind.into(),
                site,
                layout: v2.then_some(LAYOUT_DELIMITED_V2.into()),
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batches_round_trip_through_protobuf(b in batch()) {
        let bytes = b.encode_to_vec();
        prop_assert_eq!(payload::decode(&bytes).unwrap(), b);
    }

    #[test]
    fn every_event_is_accepted_or_rejected_with_a_known_reason(b in batch()) {
        let n = b.events.len();
        let identified = payload::user_key(&b).to_owned();
        let out = payload::process(b, &facts(), &limits());
        prop_assert_eq!(out.accepted.len() + out.rejected.len(), n);
        for rejected in &out.rejected {
            prop_assert!(reason::ALL.contains(&rejected.reason.as_str()), "{}", rejected.reason);
            prop_assert!(!rejected.detail.is_empty());
            prop_assert!(rejected.event.is_some(), "the rejected event is kept");
        }
        let max_age_ms = 7 * 86_400_000;
        for index in 0..out.accepted.len() {
            let accepted = out.collected(index).unwrap();
            let event = accepted.event.as_ref().unwrap();
            prop_assert_eq!(event.event_id.len(), 16);
            prop_assert!(event.kind.is_some());
            prop_assert!(accepted.event_time_ms >= NOW_MS - max_age_ms);
            prop_assert!(accepted.event_time_ms <= NOW_MS + 300_000);
            prop_assert_eq!(&accepted.user_key, &identified);
            prop_assert!(!accepted.user_key.is_empty(), "no identity, no acceptance");
        }
    }

    #[test]
    fn v2_records_hold_every_accepted_event_in_order_split_below_the_limit(
        b in batch(),
        per_kind in any::<bool>(),
        max_record_bytes in 1024usize..4096,
    ) {
        let out = payload::process(b, &facts(), &limits());
        let config = RoutingConfig {
            records: if per_kind { RecordLayout::PerKind } else { RecordLayout::PerBatch },
            max_record_bytes,
            ..RoutingConfig::default()
        };
        let records = Router::new(&config).route(&out, "demo", false);
        let mut read = Vec::new();
        for record in records.iter().filter(|r| r.headers.layout.is_some()) {
            let headers = [(RecordHeaders::LAYOUT, record.headers.layout.as_deref().map(str::as_bytes))];
            let events: Vec<_> = read_record(headers, &record.payload).unwrap().collect();
            prop_assert!(!events.is_empty());
            // Over the limit only when one event alone is.
            prop_assert!(record.payload.len() <= max_record_bytes || events.len() == 1);
            // Byte for byte what prost writes for the whole messages, length-delimited.
            let mut again = Vec::new();
            for event in events {
                let event = event.unwrap();
                event.encode_length_delimited(&mut again).unwrap();
                read.push(event);
            }
            prop_assert_eq!(&again, &record.payload);
        }
        let mut expected: Vec<_> = (0..out.accepted.len()).filter_map(|i| out.collected(i)).collect();
        if per_kind {
            // Grouped by kind (first-appearance order), in order within a kind.
            let mut kinds: Vec<i32> = Vec::new();
            for e in &expected {
                if !kinds.contains(&e.kind) { kinds.push(e.kind); }
            }
            expected = kinds.iter().flat_map(|k| expected.iter().filter(move |e| e.kind == *k).cloned()).collect();
        }
        prop_assert_eq!(read, expected);
        prop_assert_eq!(records.iter().filter(|r| r.headers.layout.is_none()).count(), out.rejected.len());
    }

    #[test]
    fn records_hold_exactly_the_encoded_collected_event(b in batch()) {
        let out = payload::process(b, &facts(), &limits());
        let config = RoutingConfig { records: RecordLayout::PerEvent, ..RoutingConfig::default() };
        let records = Router::new(&config).route(&out, "demo", false);
        prop_assert_eq!(records.len(), out.accepted.len() + out.rejected.len());
        for (index, record) in records.iter().take(out.accepted.len()).enumerate() {
            let full = out.collected(index).unwrap();
            // Byte for byte what prost writes for the whole message, shared fields
            // spliced in once per batch or not.
            prop_assert_eq!(&record.payload, &full.encode_to_vec());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(b) = payload::decode(&bytes) {
            let n = b.events.len();
            let out = payload::process(b, &facts(), &limits());
            prop_assert_eq!(out.accepted.len() + out.rejected.len(), n);
        }
    }

    #[test]
    fn spool_frames_round_trip_and_truncation_keeps_a_prefix(
        records in prop::collection::vec(record(), 0..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = codec::encode_frames(&records);
        let scan = codec::scan(&bytes, true);
        prop_assert_eq!(&scan.records, &records);
        prop_assert_eq!(scan.corrupt, 0);
        if !bytes.is_empty() {
            let at = cut.index(bytes.len());
            let torn = codec::scan(&bytes[..at], true);
            prop_assert!(torn.records.len() <= records.len());
            prop_assert_eq!(&torn.records[..], &records[..torn.records.len()]);
            prop_assert!(torn.corrupt <= 1);
        }
    }
}
