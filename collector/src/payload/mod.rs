//! From request bytes to records-to-be: size-limited body read → gzip inflate with a
//! streaming output limit → protobuf decode → validate → enrich.

pub mod body;
pub mod decompress;
pub mod enrich;
pub mod validate;

use prost::Message;
use sightline_proto::v1::{Batch, CollectedEvent, Event, RejectedEvent};

use crate::{config::LimitsConfig, error::ApiError, ivt::Verdict};
use validate::{Rejection, reason};

/// Facts about the request known to the server, not to the client.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub received_at_ms: i64,
    /// Already truncated (see [`enrich::truncate_ip`]).
    pub client_ip: String,
    pub user_agent: String,
    pub collector_id: String,
}

/// One batch split into what goes to the kind topics and what to the dead letter.
///
/// An accepted event's `CollectedEvent` is `shared` (the batch's context, identity,
/// experiments and the request's facts, identical for every event of the batch) plus
/// its [`AcceptedEvent`] fields. They are kept apart so the shared part is moved out of
/// the batch once and encoded once per batch (see `routing`), not cloned per event.
#[derive(Debug, Default)]
pub struct Processed {
    pub accepted: Vec<AcceptedEvent>,
    /// `CollectedEvent` fields common to every accepted event; `event`, `kind` and
    /// `event_time_ms` are left at their defaults.
    pub shared: CollectedEvent,
    pub rejected: Vec<RejectedEvent>,
    /// Client clock minus server clock, when the batch carried `sent_at_ms`.
    pub clock_skew_ms: Option<i64>,
}

/// The per-event fields of one accepted `CollectedEvent`.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedEvent {
    pub event: Event,
    /// `sightline.v1.EventKind` of `event`.
    pub kind: i32,
    /// Clock-skew-corrected event time (see `enrich`).
    pub event_time_ms: i64,
    /// Invalid-traffic reasons (`crate::ivt`); VALID until classified.
    pub ivt: Verdict,
    /// PII replaced in this event and in the page context (`crate::privacy`).
    pub pii_redactions: u32,
}

impl Processed {
    /// The full `CollectedEvent` of accepted event `index` (a copy: for tests and
    /// tools; the request path encodes from `shared` without building it).
    pub fn collected(&self, index: usize) -> Option<CollectedEvent> {
        let accepted = self.accepted.get(index)?;
        Some(CollectedEvent {
            event: Some(accepted.event.clone()),
            kind: accepted.kind,
            event_time_ms: accepted.event_time_ms,
            traffic_class: accepted.ivt.class() as i32,
            ivt_reasons: accepted.ivt.values().collect(),
            pii_redactions: accepted.pii_redactions,
            ..self.shared.clone()
        })
    }
}

/// Decodes a `sightline.v1.Batch`. Invalid UTF-8 in a string field is a decode error
/// in prost, so it is refused here too.
pub fn decode(bytes: &[u8]) -> Result<Batch, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::EmptyBody);
    }
    Batch::decode(bytes).map_err(|e| ApiError::InvalidProtobuf(e.to_string()))
}

/// The Kafka key of a batch's events: user id when identified, else anonymous id.
pub fn user_key(batch: &Batch) -> &str {
    match &batch.identity {
        Some(i) if !i.user_id.is_empty() => &i.user_id,
        Some(i) => &i.anonymous_id,
        None => "",
    }
}

/// Validates and enriches every event of `batch`. Pure: no clock, no I/O.
pub fn process(mut batch: Batch, facts: &RequestFacts, limits: &LimitsConfig) -> Processed {
    let events = std::mem::take(&mut batch.events);
    let batch_check = validate::validate_batch(&batch, limits);
    let key = user_key(&batch).to_owned();
    let max_age_ms = i64::try_from(limits.max_event_age_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let max_future_ms =
        i64::try_from(limits.max_event_future_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let mut out = Processed {
        clock_skew_ms: enrich::clock_skew_ms(facts.received_at_ms, batch.sent_at_ms),
        ..Default::default()
    };
    for event in events {
        let event_time_ms = enrich::corrected_event_time_ms(
            facts.received_at_ms,
            batch.sent_at_ms,
            event.client_ts_ms,
        );
        let verdict = batch_check
            .clone()
            .and_then(|()| validate::validate_event(&event, limits))
            .and_then(|()| {
                if enrich::within_window(event_time_ms, facts.received_at_ms, max_age_ms, max_future_ms) {
                    Ok(())
                } else {
                    Err(Rejection {
                        reason: reason::TIMESTAMP_OUT_OF_WINDOW,
                        detail: format!(
                            "corrected event time {event_time_ms} ms is outside [-{}s, +{}s] of receipt {}",
                            limits.max_event_age_s, limits.max_event_future_s, facts.received_at_ms
                        ),
                    })
                }
            });
        match verdict {
            Ok(()) => out.accepted.push(AcceptedEvent {
                kind: sightline_proto::kind_of(event.kind.as_ref()) as i32,
                event,
                event_time_ms,
                ivt: Verdict::default(),
                pii_redactions: 0,
            }),
            Err(rejection) => out.rejected.push(RejectedEvent {
                reason: rejection.reason.to_owned(),
                detail: rejection.detail,
                event: Some(event),
                site_key: batch.site_key.clone(),
                sdk_version: batch.sdk_version.clone(),
                identity: batch.identity.clone(),
                batch_seq: batch.batch_seq,
                received_at_ms: facts.received_at_ms,
                client_sent_at_ms: batch.sent_at_ms,
                client_ip: facts.client_ip.clone(),
                user_agent: facts.user_agent.clone(),
                collector_id: facts.collector_id.clone(),
            }),
        }
    }
    // Moved, not cloned: the batch is not needed any more.
    out.shared = CollectedEvent {
        site_key: batch.site_key,
        sdk_version: batch.sdk_version,
        context: batch.context,
        identity: batch.identity,
        experiments: batch.experiments,
        batch_seq: batch.batch_seq,
        user_key: key,
        received_at_ms: facts.received_at_ms,
        client_sent_at_ms: batch.sent_at_ms,
        client_ip: facts.client_ip.clone(),
        user_agent: facts.user_agent.clone(),
        collector_id: facts.collector_id.clone(),
        privacy_mode: batch.privacy_mode,
        consent: batch.consent,
        ..Default::default()
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{Click, Event, EventKind, Identity, event::Kind};

    fn facts() -> RequestFacts {
        RequestFacts {
            received_at_ms: 1_700_000_000_000,
            client_ip: "203.0.113.0".into(),
            user_agent: "ua".into(),
            collector_id: "c1".into(),
        }
    }

    fn click(id: u8, client_ts_ms: i64) -> Event {
        Event {
            event_id: vec![id; 16],
            client_ts_ms,
            kind: Some(Kind::Click(Click::default())),
            ..Default::default()
        }
    }

    fn batch(events: Vec<Event>, sent_at_ms: i64) -> Batch {
        Batch {
            site_key: "demo".into(),
            sent_at_ms,
            identity: Some(Identity {
                anonymous_id: "anon-1".into(),
                user_id: String::new(),
                ..Default::default()
            }),
            events,
            ..Default::default()
        }
    }

    #[test]
    fn good_and_bad_events_are_split_and_enriched() {
        let now = facts().received_at_ms;
        // Client clock 1 h behind; events 1 s and 10 days before sending.
        let sent = now - 3_600_000;
        let mut bad_id = click(2, sent - 1000);
        bad_id.event_id.clear();
        let b = batch(
            vec![
                click(1, sent - 1000),
                bad_id,
                click(3, sent - 10 * 86_400_000),
            ],
            sent,
        );
        let out = process(b, &facts(), &LimitsConfig::default());
        assert_eq!(out.accepted.len(), 1);
        let ok = out.collected(0).unwrap();
        assert_eq!(ok.event_time_ms, now - 1000);
        assert_eq!(ok.event.as_ref().map(|e| e.event_id[0]), Some(1));
        assert_eq!(ok.site_key, "demo");
        assert_eq!(ok.client_sent_at_ms, sent);
        assert_eq!(ok.user_key, "anon-1");
        assert_eq!(ok.kind, EventKind::Click as i32);
        assert_eq!(ok.client_ip, "203.0.113.0");
        let reasons: Vec<&str> = out.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec![reason::MISSING_EVENT_ID, reason::TIMESTAMP_OUT_OF_WINDOW]
        );
        assert_eq!(out.clock_skew_ms, Some(-3_600_000));
    }

    #[test]
    fn future_events_are_rejected() {
        let now = facts().received_at_ms;
        let b = batch(vec![click(1, now + 3_600_000)], now);
        let out = process(b, &facts(), &LimitsConfig::default());
        assert_eq!(out.rejected[0].reason, reason::TIMESTAMP_OUT_OF_WINDOW);
    }

    #[test]
    fn identified_users_are_keyed_by_user_id() {
        let mut b = batch(vec![], 0);
        assert_eq!(user_key(&b), "anon-1");
        if let Some(identity) = b.identity.as_mut() {
            identity.user_id = "u-9".into();
        }
        assert_eq!(user_key(&b), "u-9");
    }

    #[test]
    fn decode_refuses_empty_garbage_and_bad_utf8() {
        assert_eq!(decode(b"").unwrap_err(), ApiError::EmptyBody);
        assert_eq!(
            decode(&[0xff, 0xff, 0xff]).unwrap_err().code(),
            "invalid_protobuf"
        );
        // field 1 (site_key), wire type 2, length 2, invalid UTF-8.
        assert_eq!(
            decode(&[0x0a, 0x02, 0xc3, 0x28]).unwrap_err().code(),
            "invalid_protobuf"
        );
    }
}
