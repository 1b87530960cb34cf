//! Encoding accepted events as `CollectedEvent`s without building them: the fields every
//! event of a batch shares are encoded once, and each event is its own fields spliced
//! around them, appended to the caller's buffer (one buffer per Kafka record, no
//! allocation per event).

use prost::{
    Message,
    encoding::{WireType, encode_key, encode_varint, encoded_len_varint, int32, int64, uint32},
};
use sightline_proto::v1::CollectedEvent;

use crate::payload::AcceptedEvent;

/// Encodes `CollectedEvent`s of one batch.
///
/// The output is byte for byte what `CollectedEvent::encode_to_vec` gives for the full
/// message (prost writes fields in field-number order and skips defaults; the tests
/// check the equality): fields 1 `event` and 2 `kind`, then the shared fields 3–9 and
/// 20 (`head`), then 21 `event_time_ms`, then the shared fields 22–32 (`tail`), then the
/// event's invalid-traffic verdict, 33 `traffic_class` and 34 `ivt_reasons`, then the
/// shared privacy fields 35–37 (`privacy`), the event's 38 `pii_redactions`, then every
/// shared field above 38 (`rest`).
pub struct CollectedEncoder {
    head: Vec<u8>,
    tail: Vec<u8>,
    privacy: Vec<u8>,
    rest: Vec<u8>,
}

/// The sizes of one event's encoding, computed once and used to size and write it.
#[derive(Debug, Clone, Copy)]
pub struct EventSize {
    /// Length of the nested `Event` message.
    event_len: usize,
    /// Length of the whole `CollectedEvent` message.
    message_len: usize,
}

impl EventSize {
    /// Bytes of the message with its varint length prefix (layout v2).
    pub fn delimited_len(self) -> usize {
        encoded_len_varint(self.message_len as u64) + self.message_len
    }
}

impl CollectedEncoder {
    /// `shared` has `event`, `kind` and `event_time_ms` at their defaults (as
    /// `Processed::shared`); they are ignored if not.
    pub fn new(shared: &CollectedEvent) -> Self {
        let head = CollectedEvent {
            site_key: shared.site_key.clone(),
            sdk_version: shared.sdk_version.clone(),
            context: shared.context.clone(),
            identity: shared.identity.clone(),
            experiments: shared.experiments.clone(),
            batch_seq: shared.batch_seq,
            user_key: shared.user_key.clone(),
            received_at_ms: shared.received_at_ms,
            ..Default::default()
        }
        .encode_to_vec();
        let tail = CollectedEvent {
            client_sent_at_ms: shared.client_sent_at_ms,
            client_ip: shared.client_ip.clone(),
            user_agent: shared.user_agent.clone(),
            collector_id: shared.collector_id.clone(),
            device: shared.device.clone(),
            geo: shared.geo.clone(),
            network: shared.network.clone(),
            ..Default::default()
        }
        .encode_to_vec();
        let privacy = CollectedEvent {
            privacy_mode: shared.privacy_mode,
            consent: shared.consent,
            visitor_id: shared.visitor_id.clone(),
            ..Default::default()
        }
        .encode_to_vec();
        // Everything numbered above 38: `shared` with every field up to 38 cleared; the
        // update keeps it right when a field is added (it need not be listed here).
        #[allow(clippy::needless_update)]
        let rest = CollectedEvent {
            event: None,
            kind: 0,
            site_key: String::new(),
            sdk_version: String::new(),
            context: None,
            identity: None,
            experiments: Default::default(),
            batch_seq: 0,
            user_key: String::new(),
            received_at_ms: 0,
            event_time_ms: 0,
            client_sent_at_ms: 0,
            client_ip: String::new(),
            user_agent: String::new(),
            collector_id: String::new(),
            device: None,
            geo: None,
            network: None,
            traffic_class: 0,
            ivt_reasons: Vec::new(),
            privacy_mode: 0,
            consent: None,
            visitor_id: String::new(),
            pii_redactions: 0,
            ..shared.clone()
        }
        .encode_to_vec();
        Self {
            head,
            tail,
            privacy,
            rest,
        }
    }

    /// Bytes of fields 33 and 34 (the verdict) and the packed reasons' length.
    fn verdict_len(accepted: &AcceptedEvent) -> (usize, usize) {
        let class = accepted.ivt.class() as i32;
        let class_len = if class != 0 {
            int32::encoded_len(33, &class)
        } else {
            0
        };
        let packed: usize = accepted
            .ivt
            .values()
            .map(|r| encoded_len_varint(r as u64))
            .sum();
        let reasons_len = if packed > 0 {
            2 + encoded_len_varint(packed as u64) + packed
        } else {
            0
        };
        (class_len + reasons_len, packed)
    }

    /// The sizes of `accepted`'s `CollectedEvent` (walks the event once).
    pub fn size(&self, accepted: &AcceptedEvent) -> EventSize {
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
        let (verdict_len, _) = Self::verdict_len(accepted);
        let redactions_len = if accepted.pii_redactions != 0 {
            uint32::encoded_len(38, &accepted.pii_redactions)
        } else {
            0
        };
        EventSize {
            event_len,
            message_len: 1
                + encoded_len_varint(event_len as u64)
                + event_len
                + kind_len
                + self.head.len()
                + time_len
                + self.tail.len()
                + verdict_len
                + self.privacy.len()
                + redactions_len
                + self.rest.len(),
        }
    }

    /// Appends the `CollectedEvent` of `accepted` (sized by [`Self::size`]) to `out`.
    pub fn write(&self, accepted: &AcceptedEvent, size: EventSize, out: &mut Vec<u8>) {
        encode_key(1, WireType::LengthDelimited, out);
        encode_varint(size.event_len as u64, out);
        accepted.event.encode_raw(out);
        if accepted.kind != 0 {
            int32::encode(2, &accepted.kind, out);
        }
        out.extend_from_slice(&self.head);
        if accepted.event_time_ms != 0 {
            int64::encode(21, &accepted.event_time_ms, out);
        }
        out.extend_from_slice(&self.tail);
        let class = accepted.ivt.class() as i32;
        if class != 0 {
            int32::encode(33, &class, out);
        }
        let (_, packed) = Self::verdict_len(accepted);
        if packed > 0 {
            encode_key(34, WireType::LengthDelimited, out);
            encode_varint(packed as u64, out);
            for reason in accepted.ivt.values() {
                encode_varint(reason as u64, out);
            }
        }
        out.extend_from_slice(&self.privacy);
        if accepted.pii_redactions != 0 {
            uint32::encode(38, &accepted.pii_redactions, out);
        }
        out.extend_from_slice(&self.rest);
    }

    /// Appends `accepted` length-delimited (layout v2): its varint length, then the message.
    pub fn write_delimited(&self, accepted: &AcceptedEvent, size: EventSize, out: &mut Vec<u8>) {
        encode_varint(size.message_len as u64, out);
        self.write(accepted, size, out);
    }

    /// The encoded `CollectedEvent` of `accepted` alone (layout v1), in one allocation of
    /// the exact size.
    pub fn encode(&self, accepted: &AcceptedEvent) -> Vec<u8> {
        let size = self.size(accepted);
        let mut out = Vec::with_capacity(size.message_len);
        self.write(accepted, size, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::Event;

    #[test]
    fn defaults_are_skipped_exactly_as_prost_does() {
        let bare = AcceptedEvent {
            event: Event::default(),
            kind: 0,
            event_time_ms: 0,
            ivt: Default::default(),
            pii_redactions: 0,
        };
        let encoder = CollectedEncoder::new(&CollectedEvent::default());
        let full = CollectedEvent {
            event: Some(Event::default()),
            ..Default::default()
        };
        assert_eq!(encoder.encode(&bare), full.encode_to_vec());
        let mut delimited = Vec::new();
        encoder.write_delimited(&bare, encoder.size(&bare), &mut delimited);
        assert_eq!(delimited, full.encode_length_delimited_to_vec());
        assert_eq!(encoder.size(&bare).delimited_len(), delimited.len());
    }

    #[test]
    fn every_shared_field_and_the_verdict_are_where_prost_puts_them() {
        use sightline_proto::v1::{
            ConsentPurposes, DeviceInfo, GeoInfo, IvtReason, NetworkInfo, PrivacyMode,
        };
        let shared = CollectedEvent {
            site_key: "s".into(),
            user_key: "u".into(),
            received_at_ms: 5,
            client_sent_at_ms: 4,
            client_ip: "203.0.113.0".into(),
            user_agent: "ua".into(),
            collector_id: "c".into(),
            device: Some(DeviceInfo {
                device_class: 1,
                browser: "Chrome".into(),
                browser_major: 131,
                ..Default::default()
            }),
            geo: Some(GeoInfo {
                country: "IN".into(),
                region: "KA".into(),
                city: "Bengaluru".into(),
            }),
            network: Some(NetworkInfo {
                asn: 16509,
                as_org: "Amazon".into(),
                datacenter: true,
            }),
            privacy_mode: PrivacyMode::Cookieless as i32,
            consent: Some(ConsentPurposes {
                measurement: 1,
                personalization: 2,
                storage: 2,
                source: 4,
                gpc: true,
                minor: false,
            }),
            visitor_id: "0123456789abcdef0123456789abcdef".into(),
            identity_stripped: true,
            source: 1,
            library_name: "lib".into(),
            message_id: "m".into(),
            ..Default::default()
        };
        let encoder = CollectedEncoder::new(&shared);
        let mut ivt = crate::ivt::Verdict::classified();
        ivt.add(IvtReason::Datacenter);
        ivt.add(IvtReason::ClickBurst);
        for (ivt, pii_redactions) in [
            (crate::ivt::Verdict::default(), 0),
            (crate::ivt::Verdict::classified(), 3),
            (ivt, 300),
        ] {
            let accepted = AcceptedEvent {
                event: Event {
                    event_id: vec![1; 16],
                    ..Default::default()
                },
                kind: 6,
                event_time_ms: 9,
                ivt,
                pii_redactions,
            };
            let full = CollectedEvent {
                event: Some(accepted.event.clone()),
                kind: accepted.kind,
                event_time_ms: accepted.event_time_ms,
                traffic_class: ivt.class() as i32,
                ivt_reasons: ivt.values().collect(),
                pii_redactions,
                ..shared.clone()
            };
            assert_eq!(encoder.encode(&accepted), full.encode_to_vec());
            assert_eq!(
                encoder.size(&accepted).delimited_len(),
                full.encode_length_delimited_to_vec().len()
            );
        }
    }
}
