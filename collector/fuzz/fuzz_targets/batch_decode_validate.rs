//! Untrusted request bytes → protobuf decode → validate + enrich. Must never panic, and
//! every event must come out either accepted or rejected-with-a-reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_collector::{
    config::LimitsConfig,
    payload::{self, RequestFacts},
};

fuzz_target!(|data: &[u8]| {
    let Ok(batch) = payload::decode(data) else {
        return;
    };
    let events = batch.events.len();
    let facts = RequestFacts {
        received_at_ms: 1_700_000_000_000,
        client_ip: "192.0.2.0".into(),
        user_agent: "fuzz".into(),
        collector_id: "fuzz".into(),
    };
    let limits = LimitsConfig {
        max_url_len: 64,
        max_string_len: 64,
        max_name_len: 16,
        max_properties: 4,
        ..LimitsConfig::default()
    };
    let out = payload::process(batch, &facts, &limits);
    assert_eq!(out.accepted.len() + out.rejected.len(), events);
    assert!(out.rejected.iter().all(|r| !r.reason.is_empty()));
});
