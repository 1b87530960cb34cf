//! Encoding accepted events as `CollectedEvent`s without building them: the fields every
//! event of a batch shares are encoded once, and each event is its own fields spliced
//! around them, appended to the caller's buffer (one buffer per Kafka record, no
//! allocation per event).

use prost::{
    Message,
    encoding::{WireType, encode_key, encode_varint, encoded_len_varint, int32, int64},
};
use sightline_proto::v1::CollectedEvent;

use crate::payload::AcceptedEvent;

/// Encodes `CollectedEvent`s of one batch.
///
/// The output is byte for byte what `CollectedEvent::encode_to_vec` gives for the full
/// message (prost writes fields in field-number order and skips defaults; the tests
/// check the equality): fields 1 `event` and 2 `kind`, then the shared fields 3–9 and
/// 20 (`head`), then 21 `event_time_ms`, then the shared fields from 22 on (`tail`).
pub struct CollectedEncoder {
    head: Vec<u8>,
    tail: Vec<u8>,
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
        // Everything after field 21 (22–25 and every later field, e.g. the import's
        // 40–44) is the tail; new fields above 21 need no change here.
        let tail = CollectedEvent {
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
            ..shared.clone()
        }
        .encode_to_vec();
        let head = CollectedEvent {
            event: None,
            kind: 0,
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
        Self { head, tail }
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
        EventSize {
            event_len,
            message_len: 1
                + encoded_len_varint(event_len as u64)
                + event_len
                + kind_len
                + self.head.len()
                + time_len
                + self.tail.len(),
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
}
