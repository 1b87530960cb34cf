//! Untrusted JSON import bodies → bounded decode → Segment mapping → validate + enrich.
//! Must never panic or overflow the stack, whatever the nesting; every message comes out
//! either accepted or rejected with a known reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_collector::{
    config::LimitsConfig,
    import::{
        MessageType, Shape, json,
        mapping::{self, RequestContext},
    },
    payload::{self, RequestFacts, validate::reason},
};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the path's shape, the rest is the body.
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let shape = match selector % 3 {
        0 => Shape::Batch,
        1 => Shape::Single(MessageType::Track),
        _ => Shape::Single(MessageType::Screen),
    };
    let Ok(request) = json::decode(body, shape, 16) else {
        return;
    };
    let limits = LimitsConfig {
        max_url_len: 64,
        max_string_len: 64,
        max_name_len: 16,
        max_properties: 4,
        ..LimitsConfig::default()
    };
    let context = RequestContext {
        site: "demo",
        received_at_ms: 1_700_000_000_000,
        sent_at: request.sent_at.as_ref(),
        context: request.context.as_ref(),
        default_type: match shape {
            Shape::Single(t) => Some(t),
            Shape::Batch => None,
        },
        trust_client_ip: selector & 0x80 != 0,
    };
    for message in &request.messages {
        match mapping::map(message, &context, &limits) {
            Ok(mapped) => {
                let facts = RequestFacts {
                    received_at_ms: context.received_at_ms,
                    client_ip: "192.0.2.0".into(),
                    user_agent: mapped.user_agent.clone().unwrap_or_default(),
                    collector_id: "fuzz".into(),
                };
                let out = payload::process(mapped.batch, &facts, &limits);
                assert_eq!(out.accepted.len() + out.rejected.len(), 1);
                assert!(out.rejected.iter().all(|r| reason::ALL.contains(&r.reason.as_str())));
                assert!(out.accepted.iter().all(|a| a.event.event_id.len() == 16));
            }
            Err(unmapped) => assert!(reason::ALL.contains(&unmapped.rejection.reason)),
        }
    }
});
