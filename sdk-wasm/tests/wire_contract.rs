//! The SDK's wire contract, checked against the schema rather than by convention:
//!
//! 1. **Byte equality.** For every event kind and the batch header, the same content is
//!    built as a prost message (`sightline-proto`) with every field set to a distinct
//!    non-default value, and the SDK's writer (`core::{wire,event,batch}`) must produce
//!    exactly `encode_to_vec()`'s bytes. A swapped field number, a wrong type (`int64` for
//!    `sint32`), a missed field or a field written twice fails here.
//! 2. **Golden batch.** The request the SDK builds from those events is committed as
//!    `proto/testdata/sdk_batch_every_field.{binpb,txtpb}`; `proto/tests/golden.rs` checks
//!    it with `protoc --encode/--decode` like every golden vector, and this file rebuilds it
//!    with the SDK writer and compares bytes, so the file cannot go stale. Regenerate with
//!    `SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test wire_contract`.
//! 3. **Coverage.** The `.proto` descriptors (compiled with protox) are walked from `Batch`:
//!    every field must be present in that SDK-built batch or listed in [`NOT_WRITTEN`] with
//!    its reason — so a field added to the contract cannot be forgotten by the SDK silently.
#![cfg(not(target_arch = "wasm32"))]

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use prost::Message;
use protox::prost_reflect::{DescriptorPool, DynamicMessage, Kind as FieldKind, Value as Dynamic};
use sightline_proto::v1 as pb;
use sightline_sdk::core::{
    batch::{self, BatchQueue, Header, Limits, SDK_VERSION},
    event::{
        Ad, AdClick, AdImpression, Context, Element, Identity, Kind, Navigation, Pairs, Phase,
        Point, Rect, Scroll, Value, encode_event, encode_header, encode_source, set_pair,
    },
    privacy,
    schema::{actual_visibility, consent_source, viewability_rule},
};

/// Every `ConsentPurposes` field non-zero: measurement granted, personalization and storage
/// denied by GPC (the source), a minor (so RESTRICTED).
fn privacy_state() -> u32 {
    privacy::apply(
        privacy::DEFAULT,
        privacy::GPC | privacy::MINOR,
        consent_source::DEFAULT,
    )
}

// ---- The fields the SDK does not write --------------------------------------------------

/// Why a part of `sightline.v1` is not written by the browser SDK.
#[derive(Debug)]
#[allow(dead_code)] // the variants not in use yet are there for the issues adding fields
enum NotWritten {
    /// Written by the collector (enrichment, Kafka records), never by a browser.
    CollectorOnly(&'static str),
    /// Sent by other producers (server-side / JSON ingestion), not by the browser SDK.
    OtherProducers(&'static str),
    /// In the contract already; the SDK starts writing it in the issue named.
    NotYet(&'static str),
    /// Deliberately never written by the SDK, and why.
    Unused(&'static str),
    /// Written by an optional module of the SDK (`js/modules/NAME.js`), in JavaScript; its
    /// bytes are proven equal to prost's by the test named.
    Module(&'static str),
}
use NotWritten::*;

/// Every message or field of `sightline.v1` the SDK does not write, with the reason.
///
/// An entry is a whole message (`sightline.v1.CollectedEvent`: every field of a message the
/// SDK never sends) or one field (`sightline.v1.AdImpression.new_field`). Add a line here
/// when you add a field the SDK does not write (yet); the test fails both for a field that
/// is neither written nor listed and for a listed field the SDK now writes (remove its line).
const NOT_WRITTEN: &[(&str, NotWritten)] = &[
    (
        "sightline.v1.Event.ad_video",
        Module("js/modules/video.js encodes AdVideo; the core frames it (tests/video_wire.rs)"),
    ),
    (
        "sightline.v1.AdVideo",
        Module("every field, by js/modules/video.js `encode` (tests/video_wire.rs sets each)"),
    ),
    (
        "sightline.v1.CollectedEvent",
        CollectorOnly("one Kafka record per event: the batch's fields plus the edge's enrichment"),
    ),
    (
        "sightline.v1.DeviceInfo",
        CollectorOnly("parsed from the User-Agent header at the edge (CollectedEvent.device)"),
    ),
    (
        "sightline.v1.GeoInfo",
        CollectorOnly("looked up from the full client address at the edge (CollectedEvent.geo)"),
    ),
    (
        "sightline.v1.NetworkInfo",
        CollectorOnly(
            "ASN and data-center membership of the client address (CollectedEvent.network)",
        ),
    ),
    (
        "sightline.v1.AdImpression.slot_transparent",
        Unused(
            "the SDK reports every slot CSS hides (opacity 0, visibility hidden, display none) as slot_hidden: one Element.checkVisibility call answers them together (saves SDK bytes)",
        ),
    ),
    (
        "sightline.v1.AdImpression.slot_tiny",
        Unused(
            "the collector derives it from page_rect / viewport_rect, which the SDK sends (saves SDK bytes)",
        ),
    ),
    (
        "sightline.v1.RejectedEvent",
        CollectorOnly("dead letter: an event that failed the collector's validation"),
    ),
    (
        "sightline.v1.AdDecision",
        OtherProducers(
            "the decision log of sightline-decide (issue 22), topic ad_decisions; the SDK carries a decision's id, policy and variant in Ad",
        ),
    ),
    (
        "sightline.v1.DecidedCreative",
        OtherProducers("a creative of an AdDecision (sightline-decide, issue 22)"),
    ),
    (
        "sightline.v1.AppInfo",
        OtherProducers(
            "context.app of the JSON import API's app sources (issue 19), CollectedEvent.app",
        ),
    ),
    (
        "sightline.v1.PageView.name",
        OtherProducers("page()/screen() name of the JSON import API (issue 19)"),
    ),
    (
        "sightline.v1.PageView.screen",
        OtherProducers("an app screen, from the JSON import API's screen() (issue 19)"),
    ),
];

// ---- Fixtures: every field set, every value distinct -------------------------------------

fn pairs(entries: &[(&str, &str)]) -> Pairs {
    let mut out = Pairs::new();
    for (key, value) in entries {
        set_pair(&mut out, (*key).into(), (*value).into());
    }
    out
}

fn element(tag: &str, base: i32) -> Element {
    Element {
        selector: format!("main#m>div.list>{tag}#{tag}-{base}"),
        tag: tag.into(),
        id: format!("{tag}-{base}"),
        // Inserted out of order: the writer must emit them sorted, as prost's BTreeMap does.
        data: pairs(&[("track", "buy"), ("ad-slot", "s1"), ("campaign", "k9")]),
        href: format!("https://learn.example.edu/{tag}"),
        text: format!("{tag} text"),
        rect: Rect {
            x: -base,
            y: base + 1,
            width: (base + 2) as u32,
            height: (base + 3) as u32,
        },
    }
}

fn ad(base: u32) -> Ad {
    Ad {
        slot_id: format!("slot-{base}"),
        creative_id: format!("creative-{base}"),
        campaign_id: format!("campaign-{base}"),
        placement_id: format!("placement-{base}"),
        decision_id: format!("decision-{base}"),
        decision_policy: format!("policy-{base}"),
        decision_variant: format!("variant-{base}"),
        width: base + 1,
        height: base + 2,
    }
}

/// Events borrow their data (see `core::event`); the fixtures live for the whole test run.
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// One value of every kind, and of the kinds with enum/bool fields that cannot all differ
/// in one message (three enums of two values, two bools) two, so every pair of such fields
/// differs in at least one of them.
fn every_kind() -> Vec<Kind<'static>> {
    let impression = |phase: Phase, rule, actual, viewable, measurable, hidden, base: u32| {
        Kind::AdImpression(AdImpression {
            ad: leak(ad(base)),
            impression_id: leak([base as u8; 16]),
            phase: phase as u32,
            page_rect: Some(Rect {
                x: 11,
                y: 12,
                width: 13,
                height: 14,
            }),
            viewport_rect: Some(Rect {
                x: 15,
                y: -16,
                width: 17,
                height: 18,
            }),
            viewport_width: base + 3,
            viewport_height: base + 4,
            page_height: base + 5,
            max_visible_fraction: 0.75,
            in_view_ms: base + 6,
            max_continuous_in_view_ms: base + 7,
            viewable,
            rule,
            measurable,
            actual_visibility: actual,
            time_to_viewable_ms: base + 8,
            hidden,
        })
    };
    vec![
        Kind::PageView {
            url: "https://learn.example.edu/search?utm_source=campus",
            referrer: "https://learn.example.edu/",
            navigation: Navigation::Push,
            page_height: 3401,
        },
        Kind::Click {
            element: leak(element("a", 100)),
            page: Point { x: -21, y: 22 },
            viewport: Point { x: 23, y: -24 },
            button: 2,
        },
        Kind::Scroll(Scroll {
            max_depth_px: 2551,
            max_depth_pct: 75,
            milestone_pct: 50,
            page_height: 3402,
        }),
        Kind::Hover {
            element: leak(element("button", 200)),
            dwell_ms: 812,
            ad_slot_id: "sidebar",
        },
        impression(
            Phase::Viewable,
            viewability_rule::LARGE_30,
            actual_visibility::OBSCURED,
            true,
            false,
            true,
            300,
        ),
        impression(
            Phase::Final,
            viewability_rule::LARGE_30,
            actual_visibility::VISIBLE,
            false,
            true,
            false,
            400,
        ),
        Kind::AdClick(AdClick {
            ad: leak(ad(500)),
            impression_id: &[0x55; 16],
            in_ad: Point { x: 31, y: -32 },
            page: Point { x: -33, y: 34 },
            viewport: Point { x: 35, y: 36 },
            page_rect: Rect {
                x: -37,
                y: 38,
                width: 39,
                height: 40,
            },
            since_viewable_ms: 1234,
            href: "https://ads.example/landing",
            synthetic: true,
        }),
        Kind::Search {
            query: "data science",
            results_count: 17,
        },
        Kind::Custom {
            name: "enrolled",
            properties: leak(vec![
                ("course".into(), Value::Text("ds101".into())),
                ("price".into(), Value::Number(499.5)),
                ("seats".into(), Value::Int(-3)),
                ("trial".into(), Value::Bool(true)),
            ]),
        },
        // oneof members are present even when they hold the default value.
        Kind::Custom {
            name: "defaults",
            properties: leak(vec![
                ("empty".into(), Value::Text(String::new())),
                ("zero".into(), Value::Number(0.0)),
                ("none".into(), Value::Int(0)),
                ("no".into(), Value::Bool(false)),
            ]),
        },
    ]
}

fn context() -> Context {
    Context {
        url: "https://learn.example.edu/search?utm_source=campus".into(),
        referrer: "https://www.example.org/".into(),
        viewport_width: 1280,
        viewport_height: 720,
        screen_width: 1920,
        screen_height: 1080,
        device_pixel_ratio: 1.5,
        locale: "en-IN".into(),
        timezone_offset_min: 330,
    }
}

fn traits() -> Pairs {
    pairs(&[("college", "IIT Delhi"), ("cohort", "2027-cs")])
}

fn experiments() -> Pairs {
    pairs(&[("ad_placement", "sidebar_top"), ("checkout", "b")])
}

fn identity(traits: &Pairs) -> Identity<'_> {
    Identity {
        anonymous_id: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        user_id: "student-42",
        session_id: "5f0e1d2c3b4a59687766554433221100",
        page_session_id: "0a0b0c0d0e0f10111213141516171819",
        traits,
    }
}

const SITE_KEY: &str = "pk_golden";
const SENT_AT_MS: i64 = 1_795_000_005_000;
const EVICTED: u32 = 3;
/// Both invalid-traffic signals (webdriver, prerendering).
const SIGNALS: u32 = 3;

fn event_id(i: usize) -> Vec<u8> {
    (0..16).map(|b| (i * 16 + b + 1) as u8).collect()
}
const PAGE_VIEW_ID: [u8; 16] = [0xaa; 16];
fn client_ts(i: usize) -> i64 {
    1_795_000_000_100 + i as i64 * 111
}

// ---- The same content as prost messages, field by field by name -------------------------

fn pb_rect(r: &Rect) -> pb::Rect {
    pb::Rect {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

fn pb_point(p: &Point) -> pb::Point {
    pb::Point { x: p.x, y: p.y }
}

fn pb_element(e: &Element) -> pb::Element {
    pb::Element {
        selector: e.selector.clone(),
        tag: e.tag.clone(),
        id: e.id.clone(),
        data: e.data.iter().cloned().collect(),
        href: e.href.clone(),
        text: e.text.clone(),
        rect: Some(pb_rect(&e.rect)),
    }
}

fn pb_ad(a: &Ad) -> pb::Ad {
    pb::Ad {
        slot_id: a.slot_id.clone(),
        creative_id: a.creative_id.clone(),
        campaign_id: a.campaign_id.clone(),
        placement_id: a.placement_id.clone(),
        width: a.width,
        height: a.height,
        decision_id: a.decision_id.clone(),
        decision_policy: a.decision_policy.clone(),
        decision_variant: a.decision_variant.clone(),
    }
}

fn pb_kind(kind: &Kind) -> pb::event::Kind {
    use pb::event::Kind as K;
    match kind {
        Kind::PageView {
            url,
            referrer,
            navigation,
            page_height,
        } => K::PageView(pb::PageView {
            url: url.to_string(),
            referrer: referrer.to_string(),
            navigation: *navigation as i32,
            page_height: *page_height,
            ..Default::default()
        }),
        Kind::Click {
            element,
            page,
            viewport,
            button,
        } => K::Click(pb::Click {
            element: Some(pb_element(element)),
            page: Some(pb_point(page)),
            viewport: Some(pb_point(viewport)),
            button: *button,
        }),
        Kind::Scroll(s) => K::Scroll(pb::Scroll {
            max_depth_px: s.max_depth_px,
            max_depth_pct: s.max_depth_pct,
            milestone_pct: s.milestone_pct,
            page_height: s.page_height,
        }),
        Kind::Hover {
            element,
            dwell_ms,
            ad_slot_id,
        } => K::Hover(pb::Hover {
            element: Some(pb_element(element)),
            dwell_ms: *dwell_ms,
            ad_slot_id: ad_slot_id.to_string(),
        }),
        Kind::AdImpression(i) => K::AdImpression(pb::AdImpression {
            ad: Some(pb_ad(i.ad)),
            impression_id: i.impression_id.to_vec(),
            phase: i.phase as i32,
            page_rect: i.page_rect.as_ref().map(pb_rect),
            viewport_rect: i.viewport_rect.as_ref().map(pb_rect),
            viewport_width: i.viewport_width,
            viewport_height: i.viewport_height,
            page_height: i.page_height,
            max_visible_fraction: i.max_visible_fraction,
            in_view_ms: i.in_view_ms,
            max_continuous_in_view_ms: i.max_continuous_in_view_ms,
            viewable: i.viewable,
            rule: i.rule as i32,
            measurable: i.measurable,
            actual_visibility: i.actual_visibility as i32,
            time_to_viewable_ms: i.time_to_viewable_ms,
            slot_tiny: false,
            slot_transparent: false,
            slot_hidden: i.hidden,
        }),
        Kind::AdClick(c) => K::AdClick(pb::AdClick {
            ad: Some(pb_ad(c.ad)),
            impression_id: c.impression_id.to_vec(),
            in_ad: Some(pb_point(&c.in_ad)),
            page: Some(pb_point(&c.page)),
            viewport: Some(pb_point(&c.viewport)),
            page_rect: Some(pb_rect(&c.page_rect)),
            since_viewable_ms: c.since_viewable_ms,
            href: c.href.to_string(),
            synthetic: c.synthetic,
        }),
        Kind::Search {
            query,
            results_count,
        } => K::Search(pb::Search {
            query: query.to_string(),
            results_count: *results_count,
        }),
        Kind::Custom { name, properties } => K::Custom(pb::Custom {
            name: name.to_string(),
            properties: properties
                .iter()
                .map(|(key, value)| pb::Property {
                    key: key.clone(),
                    value: Some(match value {
                        Value::Text(t) => pb::property::Value::StringValue(t.clone()),
                        Value::Number(n) => pb::property::Value::NumberValue(*n),
                        Value::Int(i) => pb::property::Value::IntValue(*i),
                        Value::Bool(b) => pb::property::Value::BoolValue(*b),
                    }),
                })
                .collect(),
        }),
        // The module's bytes, one per number (tests/video_wire.rs checks the framing).
        Kind::AdVideo(message) => K::AdVideo(
            pb::AdVideo::decode(
                message
                    .iter()
                    .map(|b| *b as u8)
                    .collect::<Vec<u8>>()
                    .as_slice(),
            )
            .expect("an AdVideo message"),
        ),
    }
}

fn pb_event(i: usize, kind: &Kind) -> pb::Event {
    pb::Event {
        event_id: event_id(i),
        client_ts_ms: client_ts(i),
        seq: i as u64 + 1,
        page_view_id: PAGE_VIEW_ID.to_vec(),
        kind: Some(pb_kind(kind)),
    }
}

fn pb_context(c: &Context) -> pb::PageContext {
    pb::PageContext {
        url: c.url.clone(),
        referrer: c.referrer.clone(),
        viewport_width: c.viewport_width,
        viewport_height: c.viewport_height,
        screen_width: c.screen_width,
        screen_height: c.screen_height,
        device_pixel_ratio: c.device_pixel_ratio,
        locale: c.locale.clone(),
        timezone_offset_min: c.timezone_offset_min,
    }
}

fn pb_identity(i: &Identity) -> pb::Identity {
    pb::Identity {
        anonymous_id: i.anonymous_id.into(),
        user_id: i.user_id.into(),
        session_id: i.session_id.into(),
        page_session_id: i.page_session_id.into(),
        traits: i.traits.iter().cloned().collect(),
    }
}

// ---- 1. Byte equality --------------------------------------------------------------------

fn sdk_event(i: usize, kind: &Kind) -> Vec<u8> {
    encode_event(
        &event_id(i),
        client_ts(i),
        i as u64 + 1,
        &PAGE_VIEW_ID,
        kind,
    )
}

#[test]
fn every_event_kind_is_written_as_prost_writes_it() {
    let kinds = every_kind();
    let names: BTreeSet<String> = kinds
        .iter()
        .map(|k| format!("{:?}", sightline_proto::kind_of(Some(&pb_kind(k)))))
        .collect();
    assert_eq!(
        names.len(),
        8,
        "every EventKind is in the fixtures: {names:?}"
    );
    for (i, kind) in kinds.iter().enumerate() {
        let expected = pb_event(i, kind).encode_to_vec();
        assert_eq!(
            sdk_event(i, kind),
            expected,
            "event {i} ({kind:?}): the SDK's bytes differ from prost's"
        );
    }
}

#[test]
fn the_batch_header_is_written_as_prost_writes_it() {
    let (context, traits, experiments) = (context(), traits(), experiments());
    let identity = identity(&traits);
    let mut sdk = encode_source(SITE_KEY, "9.8.7");
    sdk.extend(encode_header(&context, &identity, &experiments));
    let expected = pb::Batch {
        site_key: SITE_KEY.into(),
        sdk_version: "9.8.7".into(),
        context: Some(pb_context(&context)),
        identity: Some(pb_identity(&identity)),
        experiments: experiments.iter().cloned().collect(),
        ..Default::default()
    };
    assert_eq!(sdk, expected.encode_to_vec());
}

/// The request body the SDK sends for `every_kind()`, built by its batch queue.
fn sdk_request() -> Vec<u8> {
    let limits = Limits {
        max_events: 100,
        max_bytes: 60 * 1024,
        max_outbox_batches: 1,
    };
    let mut queue = BatchQueue::new(SITE_KEY, limits);
    let (context, traits, experiments) = (context(), traits(), experiments());
    queue.set_header(&Header {
        context: &context,
        identity: identity(&traits),
        experiments: &experiments,
        privacy: privacy_state(),
    });
    for (i, kind) in every_kind().iter().enumerate() {
        assert!(!queue.push(&sdk_event(i, kind)), "one batch holds them all");
    }
    assert!(queue.seal());
    let mut outbox = queue.take_outbox();
    assert_eq!(outbox.len(), 1);
    let state = outbox[0].privacy;
    batch::report_evicted(&mut outbox[0].body, EVICTED, SIGNALS, state);
    batch::stamp(queue.source(), &outbox[0].body, SENT_AT_MS)
}

#[test]
fn a_whole_request_is_written_as_prost_writes_it() {
    let (context, traits) = (context(), traits());
    let expected = pb::Batch {
        site_key: SITE_KEY.into(),
        sdk_version: SDK_VERSION.into(),
        sent_at_ms: SENT_AT_MS,
        batch_seq: 1,
        context: Some(pb_context(&context)),
        identity: Some(pb_identity(&identity(&traits))),
        experiments: experiments().into_iter().collect(),
        events: every_kind()
            .iter()
            .enumerate()
            .map(|(i, k)| pb_event(i, k))
            .collect(),
        evicted_batches: EVICTED,
        signals: Some(pb::ClientSignals {
            webdriver: true,
            prerendering: true,
        }),
        privacy_mode: pb::PrivacyMode::Restricted as i32,
        consent: Some(pb::ConsentPurposes {
            measurement: pb::ConsentState::Granted as i32,
            personalization: pb::ConsentState::Denied as i32,
            storage: pb::ConsentState::Denied as i32,
            source: pb::ConsentSource::Gpc as i32,
            gpc: true,
            minor: true,
        }),
    };
    assert_eq!(sdk_request(), expected.encode_to_vec());
}

// ---- 2. The golden batch -----------------------------------------------------------------

fn proto_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../proto")
}

const GOLDEN: &str = "sdk_batch_every_field";
const GOLDEN_HEADER: &str = "\
# proto-file: sightline/v1/batch.proto
# proto-message: sightline.v1.Batch
# A request body built by the SDK's own writer (sdk-wasm/tests/wire_contract.rs): every event
# kind, every field of the contract the SDK writes, distinct values. Do not edit: regenerate
# both files with SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test wire_contract
";

fn protoc_decode(bytes: &[u8]) -> String {
    let mut child = Command::new("protoc")
        .arg(format!("-I{}", proto_root().display()))
        .args(["--decode=sightline.v1.Batch", "sightline/v1/batch.proto"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("protoc must be installed (Debian package protobuf-compiler)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write to protoc");
    let out = child.wait_with_output().expect("protoc runs");
    assert!(
        out.status.success(),
        "protoc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("protoc prints UTF-8")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn the_committed_sdk_batch_is_what_the_sdk_builds() {
    let dir = proto_root().join("testdata");
    let (bin_path, text_path) = (
        dir.join(format!("{GOLDEN}.binpb")),
        dir.join(format!("{GOLDEN}.txtpb")),
    );
    let built = sdk_request();
    let text = format!("{GOLDEN_HEADER}{}", protoc_decode(&built));
    if std::env::var_os("SIGHTLINE_BLESS").is_some() {
        std::fs::write(&bin_path, &built).expect("write the golden .binpb");
        std::fs::write(&text_path, &text).expect("write the golden .txtpb");
    }
    let hint = "the SDK's batch changed: check the diff, then regenerate with \
                SIGHTLINE_BLESS=1 cargo test -p sightline-sdk --test wire_contract";
    assert!(
        read(&bin_path) == built,
        "{} differs from the SDK's bytes; {hint}",
        bin_path.display()
    );
    assert_eq!(
        String::from_utf8_lossy(&read(&text_path)),
        text,
        "{} differs from protoc --decode of the SDK's bytes; {hint}",
        text_path.display()
    );
}

// ---- 3. Descriptor coverage ----------------------------------------------------------------

fn descriptors() -> DescriptorPool {
    let root = proto_root();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("sightline/v1"))
        .expect("proto/sightline/v1")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .map(|p| p.strip_prefix(&root).expect("under proto/").to_path_buf())
        .collect();
    files.sort();
    let set = protox::compile(&files, [&root]).expect("the .proto files compile");
    DescriptorPool::from_file_descriptor_set(set).expect("descriptor pool")
}

/// Every `Message.field` (full names) holding a non-default value in `message`, recursively.
fn written(message: &DynamicMessage, into: &mut BTreeSet<String>) {
    for (field, value) in message.fields() {
        into.insert(field.full_name().to_owned());
        let mut nested = |v: &Dynamic| {
            if let Dynamic::Message(m) = v {
                written(m, into);
            }
        };
        match value {
            Dynamic::List(items) => items.iter().for_each(&mut nested),
            Dynamic::Map(entries) => entries.values().for_each(&mut nested),
            other => nested(other),
        }
    }
}

#[test]
fn every_field_of_the_contract_is_written_by_the_sdk_or_listed_with_a_reason() {
    let pool = descriptors();
    let batch = pool
        .get_message_by_name("sightline.v1.Batch")
        .expect("sightline.v1.Batch");
    let request = DynamicMessage::decode(batch.clone(), sdk_request().as_slice())
        .expect("the SDK's request decodes");
    let mut by_sdk = BTreeSet::new();
    written(&request, &mut by_sdk);

    // Messages the SDK sends: reachable from Batch through message fields (map entries are
    // part of their map field).
    let mut sent = BTreeSet::new();
    let mut todo = vec![batch];
    while let Some(message) = todo.pop() {
        if message.is_map_entry() || !sent.insert(message.full_name().to_owned()) {
            continue;
        }
        for field in message.fields() {
            // A field an optional module writes: its message is the module's to cover.
            let by_module = NOT_WRITTEN
                .iter()
                .any(|(n, why)| *n == field.full_name() && matches!(why, Module(_)));
            if let FieldKind::Message(nested) = field.kind() {
                if !by_module {
                    todo.push(nested);
                }
            }
        }
    }

    let listed: BTreeMap<&str, &NotWritten> = NOT_WRITTEN.iter().map(|(n, w)| (*n, w)).collect();
    let mut problems = Vec::new();
    for message in pool.all_messages() {
        let name = message.full_name();
        if message.is_map_entry() || message.package_name() != "sightline.v1" {
            continue;
        }
        if !sent.contains(name) {
            if !listed.contains_key(name) {
                problems.push(format!(
                    "{name}: a message the SDK never sends; list it in NOT_WRITTEN with the reason"
                ));
            }
            continue;
        }
        if listed.contains_key(name) {
            problems.push(format!(
                "{name} is listed as a whole, but the SDK sends it: list its fields one by one"
            ));
        }
        for field in message.fields() {
            let field_name = field.full_name();
            match (by_sdk.contains(field_name), listed.get(field_name)) {
                (true, Some(why)) => problems.push(format!(
                    "{field_name} is written by the SDK now: remove it from NOT_WRITTEN ({why:?})"
                )),
                (false, None) => problems.push(format!(
                    "{field_name} (= {}) is not written by the SDK: write it (and set it in \
                     every_kind()/the header fixtures), or list it in NOT_WRITTEN with the reason",
                    field.number()
                )),
                _ => {}
            }
        }
    }
    for (name, _) in NOT_WRITTEN {
        let exists = pool.get_message_by_name(name).is_some()
            || name.rsplit_once('.').is_some_and(|(message, field)| {
                pool.get_message_by_name(message)
                    .is_some_and(|m| m.get_field_by_name(field).is_some())
            });
        if !exists {
            problems.push(format!(
                "NOT_WRITTEN lists {name}, which the schema does not have"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
