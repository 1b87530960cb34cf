//! The video module (`js/modules/video.js`) writes `sightline.v1.AdVideo` by hand in
//! JavaScript; the core only frames those bytes as `Event.ad_video`. Here node runs the
//! module's own `encode` on meters with every field set to a distinct value (and on an empty
//! one, and on values past the uint32 range), and the bytes must equal prost's
//! `encode_to_vec()` of the same message; its enum constants must be the schema's.
#![cfg(not(target_arch = "wasm32"))]

use std::{path::PathBuf, process::Command};

use prost::Message;
use sightline_proto::v1 as pb;

const SCRIPT: &str = r#"
const { encode, meter, EVENT, RULE, SIZE, SOURCE } = await import(process.argv[1]);
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const full = meter(0);
Object.assign(full, { aud: true, viewable: true, avoc: true, played: 15000.4, dur: 15500, inPlay: 14000,
  inView: 29500, maxRun: 13000, max: 0.75, w: 970, h: 546, full: true, pauses: 2, resumes: 3,
  mutes: 4, unmutes: 5, ttv: 2100, q: 31, aq: 27 });
const id = Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i);
const medium = meter(0);
Object.assign(medium, { played: 5e9, w: 480, h: 270, max: 0.3, q: 1 });
const lines = [
  ['every', hex(encode({ m: full, id, source: SOURCE.PAGE_API,
    ad: { slot: 'preroll-ü', creative: 'cr-gate-video', campaign: 'camp-gate', placement: 'preroll' } }, EVENT.FINAL))],
  ['empty', hex(encode({ m: meter(0), id: new Uint8Array(0), source: 0, ad: {} }, 0))],
  ['capped', hex(encode({ m: medium, id, source: SOURCE.ELEMENT, ad: { slot: 'feed-2' } }, EVENT.START))],
];
for (const [group, values] of Object.entries({ EVENT, RULE, SIZE, SOURCE }))
  for (const [name, value] of Object.entries(values)) lines.push([group + '.' + name, value]);
console.log(lines.map((l) => l.join(' ')).join('\n'));
"#;

/// "name value" lines the script prints, as a map.
fn run_module() -> std::collections::BTreeMap<String, String> {
    let module = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js/modules/video.js");
    let url = format!("file://{}", module.display());
    let out = Command::new("node")
        .args(["--input-type=module", "-e", SCRIPT, &url])
        .output()
        .expect("node runs (Node.js 20+ is a project requirement)");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ad(slot: &str, creative: &str, campaign: &str, placement: &str, w: u32, h: u32) -> pb::Ad {
    pb::Ad {
        slot_id: slot.into(),
        creative_id: creative.into(),
        campaign_id: campaign.into(),
        placement_id: placement.into(),
        width: w,
        height: h,
        ..Default::default()
    }
}

#[test]
fn the_module_writes_ad_video_byte_for_byte_as_prost() {
    let out = run_module();
    let id: Vec<u8> = (0xc0..0xd0).collect();
    let every = pb::AdVideo {
        ad: Some(ad(
            "preroll-ü",
            "cr-gate-video",
            "camp-gate",
            "preroll",
            970,
            546,
        )),
        impression_id: id.clone(),
        event: pb::VideoEvent::Final as i32,
        audible: true,
        viewable: true,
        audible_visible_on_complete: true,
        played_ms: 15_000,
        duration_ms: 15_500,
        in_view_playing_ms: 14_000,
        in_view_ms: 29_500,
        max_continuous_in_view_playing_ms: 13_000,
        max_visible_fraction: 0.75,
        player_size: pb::PlayerSize::Large as i32,
        fullscreen: true,
        pauses: 2,
        resumes: 3,
        mutes: 4,
        unmutes: 5,
        rule: pb::ViewabilityRule::VideoLarge30 as i32,
        measurable: true,
        time_to_viewable_ms: 2_100,
        quartiles: 31,
        audible_quartiles: 27,
        source: pb::VideoSource::PageApi as i32,
    };
    assert_eq!(out["every"], hex(&every.encode_to_vec()), "every field set");
    // Every field of the schema's AdVideo is set above (a new field must be added here).
    let every_field = every.encode_to_vec();
    let decoded = pb::AdVideo::decode(every_field.as_slice()).expect("decodes");
    assert_eq!(decoded, every);

    let empty = pb::AdVideo {
        ad: Some(pb::Ad::default()),
        ..Default::default()
    };
    assert_eq!(
        out["empty"],
        hex(&empty.encode_to_vec()),
        "defaults omitted, the ad present"
    );

    let capped = pb::AdVideo {
        ad: Some(ad("feed-2", "", "", "", 480, 270)),
        impression_id: id,
        event: pb::VideoEvent::Start as i32,
        played_ms: u32::MAX,
        max_visible_fraction: 0.3,
        player_size: pb::PlayerSize::Medium as i32,
        rule: pb::ViewabilityRule::Video50 as i32,
        measurable: true,
        quartiles: 1,
        source: pb::VideoSource::Element as i32,
        ..Default::default()
    };
    assert_eq!(
        out["capped"],
        hex(&capped.encode_to_vec()),
        "uint32 capped, medium player, 50 % rule"
    );
}

#[test]
fn the_modules_enum_constants_are_the_schemas() {
    let out = run_module();
    let checks: &[(&str, &str, i32)] = &[
        ("EVENT", "START", pb::VideoEvent::Start as i32),
        (
            "EVENT",
            "FIRST_QUARTILE",
            pb::VideoEvent::FirstQuartile as i32,
        ),
        ("EVENT", "MIDPOINT", pb::VideoEvent::Midpoint as i32),
        (
            "EVENT",
            "THIRD_QUARTILE",
            pb::VideoEvent::ThirdQuartile as i32,
        ),
        ("EVENT", "COMPLETE", pb::VideoEvent::Complete as i32),
        ("EVENT", "VIEWABLE", pb::VideoEvent::Viewable as i32),
        ("EVENT", "FINAL", pb::VideoEvent::Final as i32),
        ("RULE", "VIDEO_50", pb::ViewabilityRule::Video50 as i32),
        (
            "RULE",
            "VIDEO_LARGE_30",
            pb::ViewabilityRule::VideoLarge30 as i32,
        ),
        ("SIZE", "SMALL", pb::PlayerSize::Small as i32),
        ("SIZE", "MEDIUM", pb::PlayerSize::Medium as i32),
        ("SIZE", "LARGE", pb::PlayerSize::Large as i32),
        ("SOURCE", "ELEMENT", pb::VideoSource::Element as i32),
        ("SOURCE", "PAGE_API", pb::VideoSource::PageApi as i32),
    ];
    for (group, name, value) in checks {
        assert_eq!(
            out.get(&format!("{group}.{name}")),
            Some(&value.to_string()),
            "{group}.{name}"
        );
    }
}

#[test]
fn the_core_frames_the_modules_bytes_as_event_ad_video() {
    use sightline_sdk::core::event::{Kind, encode_event};
    let video = pb::AdVideo {
        ad: Some(ad("feed-2", "cr", "camp", "feed", 480, 270)),
        impression_id: vec![7; 16],
        event: pb::VideoEvent::Midpoint as i32,
        played_ms: 3_000,
        ..Default::default()
    };
    // As js/dom.js hands them over: one number per byte.
    let numbers: Vec<f64> = video
        .encode_to_vec()
        .iter()
        .map(|b| f64::from(*b))
        .collect();
    let (event_id, page_view_id) = ([1u8; 16], [2u8; 16]);
    let by_sdk = encode_event(
        &event_id,
        1_795_000_000_000,
        9,
        &page_view_id,
        &Kind::AdVideo(&numbers),
    );
    let by_prost = pb::Event {
        event_id: event_id.to_vec(),
        client_ts_ms: 1_795_000_000_000,
        seq: 9,
        page_view_id: page_view_id.to_vec(),
        kind: Some(pb::event::Kind::AdVideo(video)),
    }
    .encode_to_vec();
    assert_eq!(by_sdk, by_prost);
}
