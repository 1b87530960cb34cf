//! Golden vectors in `proto/testdata/`: `NAME.txtpb` is the hand-written text form,
//! `NAME.binpb` its encoding. The Rust types must read every vector, and an independent
//! implementation — `protoc` (Debian's protobuf-compiler) — must agree with them.

use std::{
    collections::BTreeSet,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use prost::Message;
use sightline_proto::{
    kind_of,
    v1::{
        ActualVisibility, Batch, CollectedEvent, EventKind, ImpressionPhase, RejectedEvent,
        ViewabilityRule, event::Kind, property::Value,
    },
};

fn proto_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every vector: (file stem, fully qualified message name).
fn vectors() -> Vec<(String, String)> {
    let dir = proto_root().join("testdata");
    let mut found: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("proto/testdata is readable")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            if path.extension()? != "txtpb" {
                return None;
            }
            let text = std::fs::read_to_string(&path).ok()?;
            let message = text
                .lines()
                .find_map(|l| l.strip_prefix("# proto-message: "))?
                .trim()
                .to_owned();
            Some((path.file_stem()?.to_str()?.to_owned(), message))
        })
        .collect();
    found.sort();
    assert!(
        found.len() >= 3,
        "expected golden vectors in {}",
        dir.display()
    );
    found
}

fn binpb(stem: &str) -> Vec<u8> {
    std::fs::read(proto_root().join("testdata").join(format!("{stem}.binpb")))
        .unwrap_or_else(|e| panic!("{stem}.binpb: {e}"))
}

/// Decodes with the generated type for `message` and encodes again.
fn rust_round_trip(message: &str, bytes: &[u8]) -> Vec<u8> {
    match message {
        "sightline.v1.Batch" => Batch::decode(bytes).expect("Batch").encode_to_vec(),
        "sightline.v1.CollectedEvent" => CollectedEvent::decode(bytes)
            .expect("CollectedEvent")
            .encode_to_vec(),
        "sightline.v1.RejectedEvent" => RejectedEvent::decode(bytes)
            .expect("RejectedEvent")
            .encode_to_vec(),
        "sightline.v1.AdDecision" => sightline_proto::v1::AdDecision::decode(bytes)
            .expect("AdDecision")
            .encode_to_vec(),
        other => panic!("no Rust type mapped for {other}"),
    }
}

#[test]
fn rust_types_read_every_vector_and_encode_it_back_byte_for_byte() {
    for (stem, message) in vectors() {
        let bytes = binpb(&stem);
        assert_eq!(rust_round_trip(&message, &bytes), bytes, "{stem}");
    }
}

#[test]
fn batch_vector_covers_every_event_kind_with_its_values() {
    let batch = Batch::decode(binpb("batch_all_kinds").as_slice()).expect("decodes");
    let kinds: BTreeSet<i32> = batch
        .events
        .iter()
        .map(|e| kind_of(e.kind.as_ref()) as i32)
        .collect();
    // Every kind but Unspecified and ad_video, which has a vector of its own (batch_ad_video).
    let all: BTreeSet<i32> = (1..=8).collect();
    assert_eq!(kinds, all, "every EventKind up to custom");
    assert_eq!(batch.evicted_batches, 2, "durable-queue evictions reported");

    let identity = batch.identity.as_ref().expect("identity");
    assert_eq!(
        identity.traits.get("college").map(String::as_str),
        Some("IIT Delhi")
    );
    assert_eq!(
        batch.experiments.get("ad_placement").map(String::as_str),
        Some("sidebar_top")
    );
    let context = batch.context.as_ref().expect("context");
    assert_eq!(context.device_pixel_ratio, 1.5);
    assert_eq!(context.timezone_offset_min, 330);
    for (i, event) in batch.events.iter().enumerate() {
        assert_eq!(event.event_id.len(), 16, "event {i} id is 16 bytes");
        assert_eq!(event.seq, i as u64 + 1, "sequence numbers are gap-free");
    }
    let impression = batch.events.iter().find_map(|e| match &e.kind {
        Some(Kind::AdImpression(a)) => Some(a),
        _ => None,
    });
    let impression = impression.expect("an ad impression");
    assert!(impression.viewable);
    assert_eq!(impression.rule(), ViewabilityRule::Display50);
    assert_eq!(impression.phase(), ImpressionPhase::Viewable);
    assert_eq!(impression.actual_visibility(), ActualVisibility::Visible);
    assert_eq!(impression.viewport_rect.as_ref().map(|r| r.y), Some(-20));
    let custom = batch.events.iter().find_map(|e| match &e.kind {
        Some(Kind::Custom(c)) => Some(c),
        _ => None,
    });
    let values: Vec<Option<Value>> = custom
        .expect("a custom event")
        .properties
        .iter()
        .map(|p| p.value.clone())
        .collect();
    assert_eq!(
        values,
        vec![
            Some(Value::StringValue("ds101".into())),
            Some(Value::NumberValue(499.5)),
            Some(Value::IntValue(-3)),
            Some(Value::BoolValue(true)),
        ]
    );
}

#[test]
fn video_vector_sets_every_ad_video_field_with_its_values() {
    use sightline_proto::v1::{AdVideo, PlayerSize, VideoEvent, VideoSource};
    let batch = Batch::decode(binpb("batch_ad_video").as_slice()).expect("decodes");
    let videos: Vec<&AdVideo> = batch
        .events
        .iter()
        .map(|e| match &e.kind {
            Some(Kind::AdVideo(v)) => v,
            other => panic!("not an ad_video: {other:?}"),
        })
        .collect();
    let events: Vec<VideoEvent> = videos.iter().map(|v| v.event()).collect();
    assert_eq!(
        events,
        [
            VideoEvent::Start,
            VideoEvent::Viewable,
            VideoEvent::Complete,
            VideoEvent::Final
        ]
    );
    assert_eq!(
        kind_of(batch.events[0].kind.as_ref()),
        EventKind::AdVideo,
        "ad_video is EventKind 10"
    );
    assert_eq!(EventKind::AdVideo as i32, 10);
    assert_eq!(EventKind::AdVideo.topic_suffix(), "ad_videos");
    let last = videos[3];
    // FINAL sets every field, each with a value distinct from its default.
    let ad = last.ad.as_ref().expect("ad");
    assert_eq!(
        (ad.slot_id.as_str(), ad.width, ad.height),
        ("preroll-course", 640, 360)
    );
    assert_eq!(last.impression_id.len(), 16);
    assert!(
        last.viewable && last.audible_visible_on_complete && last.fullscreen && last.measurable
    );
    assert!(videos[0].audible, "audible at start");
    assert_eq!((last.played_ms, last.duration_ms), (15_000, 15_000));
    assert_eq!((last.in_view_playing_ms, last.in_view_ms), (15_000, 29_500));
    assert_eq!(last.max_continuous_in_view_playing_ms, 15_000);
    assert_eq!(last.max_visible_fraction, 1.0);
    assert_eq!(last.player_size(), PlayerSize::Large);
    assert_eq!(
        (last.pauses, last.resumes, last.mutes, last.unmutes),
        (2, 2, 1, 1)
    );
    assert_eq!(last.rule(), ViewabilityRule::VideoLarge30);
    assert_eq!(last.time_to_viewable_ms, 2_000);
    assert_eq!((last.quartiles, last.audible_quartiles), (0b11111, 0b11011));
    assert_eq!(last.source(), VideoSource::Element);
    for (i, event) in batch.events.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "sequence numbers are gap-free");
        assert_eq!(
            videos[i].impression_id, last.impression_id,
            "one impression"
        );
    }
}

#[test]
fn collected_and_rejected_vectors_carry_the_enrichment() {
    let collected =
        CollectedEvent::decode(binpb("collected_ad_impression").as_slice()).expect("decodes");
    assert_eq!(collected.kind(), EventKind::AdImpression);
    assert_eq!(collected.user_key, "ffeeddccbbaa99887766554433221100");
    assert_eq!(collected.client_ip, "203.0.113.0");
    // event time = received_at - (sent_at - client event time)
    let client_ts = collected.event.as_ref().map(|e| e.client_ts_ms);
    assert_eq!(
        Some(collected.event_time_ms),
        client_ts.map(|t| collected.received_at_ms - (collected.client_sent_at_ms - t))
    );

    let rejected = RejectedEvent::decode(binpb("rejected_timestamp").as_slice()).expect("decodes");
    assert_eq!(rejected.reason, "timestamp_out_of_window");
    assert_eq!(rejected.client_ip, "2001:db8:85a3::");
}

#[test]
fn import_vectors_carry_the_source_and_the_page_view_name() {
    use sightline_proto::v1::{EventSource, event::Kind, property::Value};
    let track =
        CollectedEvent::decode(binpb("collected_import_track").as_slice()).expect("decodes");
    assert_eq!(track.source(), EventSource::Server);
    assert_eq!(track.source_name, "demo-backend");
    assert_eq!(track.library_name, "@segment/analytics-node");
    assert_eq!(track.message_id, "01234567-89ab-cdef-0123-456789abcdef");
    let event = track.event.expect("event");
    assert_eq!(
        event.event_id,
        [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef].repeat(2),
        "a UUID messageId is the event id"
    );
    let Some(Kind::Custom(custom)) = event.kind else {
        panic!("track is Custom")
    };
    assert_eq!(custom.properties[2].value, Some(Value::NumberValue(49.5)));
    assert_eq!(custom.properties[3].value, Some(Value::IntValue(2)));

    let screen =
        CollectedEvent::decode(binpb("collected_import_screen").as_slice()).expect("decodes");
    assert_eq!(screen.source(), EventSource::App);
    let app = screen.app.clone().expect("context.app is kept");
    assert_eq!(
        (app.name.as_str(), app.version.as_str(), app.build.as_str()),
        ("CampusLearn", "4.2.0", "421")
    );
    assert_eq!(app.namespace, "in.campuslearn.app");
    let Some(Kind::PageView(view)) = screen.event.and_then(|e| e.kind) else {
        panic!("screen is a PageView")
    };
    assert_eq!(
        (view.name.as_str(), view.screen, view.url.as_str()),
        ("Course Detail", true, "")
    );
}

#[test]
fn ivt_vectors_carry_the_signals_enrichment_and_verdict() {
    use sightline_proto::v1::{DeviceClass, IvtReason, TrafficClass, event::Kind};
    let batch = Batch::decode(binpb("batch_ivt_signals").as_slice()).expect("decodes");
    let signals = batch.signals.expect("signals");
    assert!(signals.webdriver && signals.prerendering);
    match batch.events.first().and_then(|e| e.kind.as_ref()) {
        Some(Kind::AdImpression(imp)) => {
            assert!(imp.slot_tiny && imp.slot_transparent && imp.slot_hidden);
        }
        other => panic!("expected an ad impression, got {other:?}"),
    }

    let collected =
        CollectedEvent::decode(binpb("collected_ivt_ad_click").as_slice()).expect("decodes");
    let device = collected.device.as_ref().expect("device");
    assert_eq!(device.device_class(), DeviceClass::Desktop);
    assert_eq!(
        (device.browser.as_str(), device.browser_major),
        ("Chrome", 131)
    );
    let geo = collected.geo.as_ref().expect("geo");
    assert_eq!((geo.country.as_str(), geo.region.as_str()), ("IN", "KA"));
    let network = collected.network.as_ref().expect("network");
    assert!(network.datacenter && network.asn == 64500);
    assert_eq!(collected.traffic_class(), TrafficClass::Givt);
    assert_eq!(
        collected.ivt_reasons().collect::<Vec<_>>(),
        vec![
            IvtReason::Datacenter,
            IvtReason::ClickWithoutImpression,
            IvtReason::ClickTooFast,
            IvtReason::SyntheticClick
        ]
    );
    match collected.event.as_ref().and_then(|e| e.kind.as_ref()) {
        Some(Kind::AdClick(click)) => assert!(click.synthetic),
        other => panic!("expected an ad click, got {other:?}"),
    }
}

/// Runs protoc with `args`, feeding `input`; returns stdout.
fn protoc(args: &[&str], input: &[u8]) -> Vec<u8> {
    let root = proto_root();
    let mut child = Command::new("protoc")
        .arg(format!("-I{}", root.display()))
        .args(args)
        .args([
            "sightline/v1/batch.proto",
            "sightline/v1/collected.proto",
            "sightline/v1/decision.proto",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("protoc must be installed (Debian package protobuf-compiler); .ci/run installs it");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input)
        .expect("write to protoc");
    let out = child.wait_with_output().expect("protoc runs");
    assert!(
        out.status.success(),
        "protoc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn protoc_independently_agrees_with_the_vectors_and_with_prost() {
    for (stem, message) in vectors() {
        let dir = proto_root().join("testdata");
        let text = read(&dir.join(format!("{stem}.txtpb")));
        let committed = binpb(&stem);

        // The committed binary is what protoc makes of the committed text.
        let encoded_by_protoc = protoc(&[&format!("--encode={message}")], &text);
        assert_eq!(
            encoded_by_protoc, committed,
            "{stem}.binpb is stale: re-encode it"
        );

        // protoc reads prost's encoding as the same message the text describes.
        let encoded_by_prost = rust_round_trip(&message, &committed);
        let decode = format!("--decode={message}");
        assert_eq!(
            String::from_utf8_lossy(&protoc(&[&decode], &encoded_by_prost)),
            String::from_utf8_lossy(&protoc(&[&decode], &encoded_by_protoc)),
            "{stem}: prost and protoc disagree"
        );
    }
}

/// `record_v2_batch_all_kinds.bin` is a Kafka record value in layout v2: the collector's
/// encoder writes it for `batch_all_kinds` (its test `golden_v2_record_is_written_byte_for_byte`
/// checks that byte for byte). Here the reader every consumer uses must read it back:
/// every event of the batch, in order, each message exactly what prost writes and what
/// protoc (an independent implementation) reads, with the length prefixes of protobuf's
/// `writeDelimitedTo` / ClickHouse's `Protobuf` format.
#[test]
fn v2_record_vector_reads_back_every_event_of_the_batch_in_order() {
    use sightline_proto::record::{LAYOUT_DELIMITED_V2, LAYOUT_HEADER, Layout, read_record};
    let value = read(&proto_root().join("testdata/record_v2_batch_all_kinds.bin"));
    let batch = Batch::decode(binpb("batch_all_kinds").as_slice()).expect("Batch");
    let headers = [
        ("kind", Some(&b"page_view,click"[..])),
        (LAYOUT_HEADER, Some(LAYOUT_DELIMITED_V2.as_bytes())),
    ];
    let events = read_record(headers, &value).expect("known layout");
    assert_eq!(events.layout(), Layout::DelimitedV2);
    let events: Vec<CollectedEvent> = events.map(|e| e.expect("event decodes")).collect();
    assert_eq!(events.len(), batch.events.len());
    let mut again = Vec::new();
    for (collected, sent) in events.iter().zip(&batch.events) {
        assert_eq!(
            collected.event.as_ref(),
            Some(sent),
            "events in batch order"
        );
        assert_eq!(collected.kind, kind_of(sent.kind.as_ref()) as i32);
        assert_eq!(collected.site_key, batch.site_key);
        assert_eq!(collected.context, batch.context);
        assert_eq!(collected.identity, batch.identity);
        let message = collected.encode_to_vec();
        let start = again.len() + prost::length_delimiter_len(message.len());
        collected
            .encode_length_delimited(&mut again)
            .expect("Vec grows");
        // protoc reads each delimited message as the CollectedEvent prost decoded.
        let by_protoc = protoc(
            &["--decode=sightline.v1.CollectedEvent"],
            &value[start..start + message.len()],
        );
        let by_prost = protoc(&["--decode=sightline.v1.CollectedEvent"], &message);
        assert_eq!(by_protoc, by_prost);
    }
    assert_eq!(
        again, value,
        "the value is exactly the delimited messages, nothing else"
    );
}

#[test]
fn privacy_vectors_carry_the_mode_consent_and_enforcement() {
    use sightline_proto::v1::{ConsentSource, ConsentState, PrivacyMode};
    let batch = Batch::decode(binpb("batch_privacy_minor").as_slice()).expect("decodes");
    assert_eq!(batch.privacy_mode(), PrivacyMode::Persistent);
    let consent = batch.consent.expect("consent");
    assert_eq!(consent.measurement(), ConsentState::Granted);
    assert_eq!(consent.personalization(), ConsentState::Denied);
    assert_eq!(consent.storage(), ConsentState::Granted);
    assert_eq!(consent.source(), ConsentSource::Api);
    assert!(consent.gpc && consent.minor);

    let collected =
        CollectedEvent::decode(binpb("collected_privacy_cookieless").as_slice()).expect("decodes");
    assert_eq!(collected.privacy_mode(), PrivacyMode::Cookieless);
    assert_eq!(collected.visitor_id, "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(collected.user_key, collected.visitor_id);
    assert_eq!(collected.pii_redactions, 2);
    assert!(collected.identity_stripped);
    let consent = collected.consent.expect("consent");
    assert_eq!(consent.source(), ConsentSource::Gpc);
    assert_eq!(consent.storage(), ConsentState::Denied);
    assert!(consent.gpc && !consent.minor);
}

#[test]
fn ad_decision_vector_carries_the_decision_on_impression_and_click() {
    let batch = Batch::decode(binpb("batch_ad_decision").as_slice()).expect("decodes");
    assert_eq!(
        batch.experiments.get("ad_policy").map(String::as_str),
        Some("personalized")
    );
    let ads: Vec<_> = batch
        .events
        .iter()
        .map(|e| match e.kind.as_ref() {
            Some(Kind::AdImpression(imp)) => imp.ad.clone().expect("impression ad"),
            Some(Kind::AdClick(click)) => click.ad.clone().expect("click ad"),
            other => panic!("expected ad events, got {other:?}"),
        })
        .collect();
    assert_eq!(ads.len(), 2);
    for ad in ads {
        assert_eq!(
            (
                ad.decision_id.as_str(),
                ad.decision_policy.as_str(),
                ad.decision_variant.as_str()
            ),
            (
                "5f0c1e2d3b4a59687766554433221100",
                "behavioural",
                "personalized"
            )
        );
    }
}

#[test]
fn decision_vector_carries_the_policy_variant_and_ranked_creatives() {
    use sightline_proto::v1::{AdDecision, ConsentState, PrivacyMode};
    let decision = AdDecision::decode(binpb("decision_behavioural").as_slice()).expect("decodes");
    assert_eq!(decision.decision_id.len(), 32);
    assert_eq!(decision.privacy_mode(), PrivacyMode::Persistent);
    assert_eq!(
        decision.consent.expect("consent").personalization(),
        ConsentState::Granted
    );
    assert_eq!(
        (decision.policy.as_str(), decision.variant.as_str()),
        ("behavioural", "personalized")
    );
    assert_eq!(decision.visitor_key, "stu-asha");
    assert_eq!(decision.profile_events, 12);
    let ids: Vec<&str> = decision
        .creatives
        .iter()
        .map(|c| c.creative_id.as_str())
        .collect();
    assert_eq!(ids, ["ml-track-v1-728x90", "calc-masterclass-v1-728x90"]);
    assert!(decision.creatives[0].score > decision.creatives[1].score);
}
