//! Many users through a real collector into the real broker, in each record layout: every
//! accepted event is consumed back (through `sightline_proto::record`) from the topic the
//! layout puts it on, exactly as sent; all events of a user share one partition, and that
//! partition is the Java client's `murmur2(key) % partitions`.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use prost::Message as _;

use sightline_collector::config::RecordLayout;
use sightline_proto::{
    record::LAYOUT_DELIMITED_V2,
    v1::{Ad, AdImpression, Click, Element, Event, EventKind, PageView, Search, event::Kind},
};
use sightline_tests::{
    collector::{ALLOWED_ORIGIN, SITE, TestCollector, batch, post_batch, test_config},
    kafka::{end_offsets, events_topic, partition_count, read_events_from, topic},
    murmur2::java_partition,
};

fn kinds_for(user: usize) -> Vec<Kind> {
    vec![
        Kind::PageView(PageView {
            url: format!("http://localhost:3000/u/{user}"),
            ..Default::default()
        }),
        Kind::Click(Click {
            element: Some(Element {
                selector: "main>a#course-42".into(),
                tag: "a".into(),
                ..Default::default()
            }),
            button: 0,
            ..Default::default()
        }),
        Kind::Search(Search {
            query: format!("linear algebra {user}"),
            results_count: user as u32,
        }),
        Kind::AdImpression(AdImpression {
            ad: Some(Ad {
                slot_id: "top".into(),
                creative_id: format!("cr-{user}"),
                ..Default::default()
            }),
            impression_id: vec![user as u8; 16],
            viewable: true,
            ..Default::default()
        }),
        Kind::Click(Click::default()),
    ]
}

/// One test for the three layouts, one after the other: per_kind and per_event write to
/// the same kind topics, and each pass reads back only as many events as it expects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layout_is_consumed_back_keyed_and_partitioned_like_java() -> anyhow::Result<()> {
    // per_batch: one record per request on the events topic (the default, layout v2).
    check(RecordLayout::PerBatch).await?;
    // per_kind: one v2 record per request and kind on the kind topics.
    check(RecordLayout::PerKind).await?;
    // per_event: one event per record on the kind topics (layout v1).
    check(RecordLayout::PerEvent).await
}

async fn check(layout: RecordLayout) -> anyhow::Result<()> {
    let topics: Vec<String> = match layout {
        RecordLayout::PerBatch => vec![events_topic()],
        _ => ["page_views", "clicks", "searches", "ad_impressions"]
            .map(topic)
            .to_vec(),
    };
    let mut starts = BTreeMap::new();
    for t in &topics {
        starts.insert(t.clone(), end_offsets(t)?);
    }
    let mut config = test_config();
    config.routing.records = layout;
    let collector = TestCollector::start(config).await?;
    let run = rand::random::<u32>();
    let users = 30;
    let requests_per_user = 2;
    let mut sent: BTreeMap<Vec<u8>, (String, Event)> = BTreeMap::new();
    let mut requests = Vec::new();
    for user in 0..users {
        let anonymous = format!("anon-{run}-{user}");
        // Every third user is identified: their key is the user id.
        let user_id = if user % 3 == 0 {
            format!("user-{run}-{user}")
        } else {
            String::new()
        };
        let key = if user_id.is_empty() {
            anonymous.clone()
        } else {
            user_id.clone()
        };
        for _ in 0..requests_per_user {
            let b = batch(&anonymous, &user_id, kinds_for(user));
            for e in &b.events {
                sent.insert(e.event_id.clone(), (key.clone(), e.clone()));
            }
            let addr = collector.addr;
            requests.push(tokio::spawn(async move {
                post_batch(addr, "", &[("origin", ALLOWED_ORIGIN)], b.encode_to_vec()).await
            }));
        }
    }
    for request in requests {
        let reply = request.await??;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["accepted"], 5);
        assert_eq!(reply.json()["rejected"], 0);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some(ALLOWED_ORIGIN)
        );
    }
    // 200 means acknowledged: the records are in Kafka now, no waiting for a flush.
    let expected_per_topic: BTreeMap<String, usize> = match layout {
        RecordLayout::PerBatch => [(events_topic(), users * 5 * requests_per_user)].into(),
        _ => [
            (topic("page_views"), users * 2),
            (topic("clicks"), users * 4),
            (topic("searches"), users * 2),
            (topic("ad_impressions"), users * 2),
        ]
        .into(),
    };

    let mut seen = BTreeSet::new();
    for (t, expected) in &expected_per_topic {
        let partitions = partition_count(t)?;
        let events = read_events_from(t, &starts[t], *expected, Duration::from_secs(20))?;
        let mine: Vec<_> = events
            .iter()
            .filter(|e| {
                e.key()
                    .is_some_and(|k| String::from_utf8_lossy(k).contains(&run.to_string()))
            })
            .collect();
        assert_eq!(mine.len(), *expected, "events on {t}");
        let mut records = BTreeSet::new();
        let mut partition_of_key: BTreeMap<Vec<u8>, BTreeSet<i32>> = BTreeMap::new();
        for read in mine {
            let collected = &read.event;
            records.insert((read.partition(), read.offset()));
            let event = collected
                .event
                .clone()
                .expect("collected event has its event");
            let (key, original) = sent.get(&event.event_id).expect("an event we sent");
            assert_eq!(&event, original, "event arrives exactly as sent");
            assert_eq!(read.key(), Some(key.as_bytes()));
            assert_eq!(collected.user_key, *key);
            assert_eq!(collected.site_key, SITE);
            assert_eq!(collected.client_ip, "127.0.0.0", "IP truncated to /24");
            assert_eq!(collected.collector_id, "test-collector");
            assert!(
                collected.received_at_ms > 0
                    && collected.event_time_ms <= collected.received_at_ms + 1000
            );
            assert_eq!(
                collected.event_time_ms,
                collected.received_at_ms - (collected.client_sent_at_ms - event.client_ts_ms)
            );
            assert_eq!(
                read.header("schema"),
                Some(&b"sightline.v1.CollectedEvent"[..])
            );
            assert_eq!(read.header("site"), Some(SITE.as_bytes()));
            let kind = EventKind::try_from(collected.kind)?.name();
            let kinds = String::from_utf8_lossy(read.header("kind").unwrap_or_default());
            assert!(
                kinds.split(',').any(|k| k == kind),
                "{kind} in kind header {kinds}"
            );
            let layout_header = read.header(sightline_proto::record::LAYOUT_HEADER);
            match layout {
                RecordLayout::PerEvent => assert_eq!(layout_header, None),
                _ => assert_eq!(layout_header, Some(LAYOUT_DELIMITED_V2.as_bytes())),
            }
            if layout == RecordLayout::PerBatch {
                assert_eq!(
                    kinds, "page_view,click,ad_impression,search",
                    "kinds present, in EventKind order"
                );
            }
            assert_eq!(
                read.partition(),
                java_partition(key.as_bytes(), partitions),
                "{key} on the Java partitioner's partition"
            );
            partition_of_key
                .entry(key.as_bytes().to_vec())
                .or_default()
                .insert(read.partition());
            assert!(seen.insert(event.event_id.clone()), "no duplicates");
        }
        let expected_records = match layout {
            // One record per request, or per request and kind.
            RecordLayout::PerBatch => users * requests_per_user,
            RecordLayout::PerKind => users * requests_per_user,
            RecordLayout::PerEvent => *expected,
        };
        assert_eq!(records.len(), expected_records, "records on {t}");
        assert!(
            partition_of_key.values().all(|p| p.len() == 1),
            "one partition per user on {t}"
        );
    }
    assert_eq!(seen.len(), sent.len(), "every event consumed back");
    collector.stop().await
}
