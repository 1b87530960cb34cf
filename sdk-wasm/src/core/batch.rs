//! Batch building: events are appended to the open batch until it reaches `max_events` or
//! `max_bytes`, or until the page context or identity changes (so a batch's context is true
//! for every event in it). Closed batches wait in a bounded outbox as encoded bytes.

use alloc::{string::String, vec::Vec};

use super::{
    event::{Context, Identity, encode_header},
    wire,
};

/// Version reported in every batch.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Field 3 (`sent_at_ms`, varint) of `Batch`, appended at send time: protobuf keeps the last
/// value of a repeated scalar field, so a stored body can be re-stamped on every retry
/// without decoding it.
const SENT_AT_TAG: u8 = 3 << 3;
/// `Batch.batch_seq` and `Batch.events`.
const BATCH_SEQ_FIELD: u32 = 4;
const EVENTS_FIELD: u32 = 8;
/// `Batch.evicted_batches`: the durable queue's evictions since the previous report.
const EVICTED_BATCHES_FIELD: u32 = 9;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
    /// Closed batches kept while they cannot be sent (consent pending); the oldest go first.
    pub max_outbox_batches: usize,
}

/// What every event of a batch shares.
/// What every event of a batch shares, borrowed from the SDK's state (encoded at once).
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    pub context: &'a Context,
    pub identity: Identity<'a>,
    pub experiments: &'a [(String, String)],
}

/// An encoded batch without `sent_at_ms`; see [`stamp`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed {
    pub batch_seq: u64,
    pub events: usize,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct BatchQueue {
    limits: Limits,
    site_key: String,
    /// The encoded shared fields; comparing bytes tells whether the header changed.
    header: Vec<u8>,
    /// Encoded `events` fields of the open batch, back to back.
    events: Vec<u8>,
    event_count: usize,
    next_batch_seq: u64,
    outbox: Vec<Sealed>,
    /// Events dropped because the outbox was full.
    pub dropped_events: u32,
}

impl BatchQueue {
    pub fn new(site_key: String, limits: Limits) -> BatchQueue {
        let header = encode_header(
            &site_key,
            SDK_VERSION,
            &Context::default(),
            &Identity::default(),
            &[],
        );
        BatchQueue {
            limits,
            site_key,
            header,
            events: Vec::new(),
            event_count: 0,
            next_batch_seq: 1,
            outbox: Vec::new(),
            dropped_events: 0,
        }
    }

    /// Replaces the shared context/identity; the open batch is closed first if it differs.
    /// Returns true when a batch was closed.
    pub fn set_header(&mut self, header: &Header) -> bool {
        let encoded = encode_header(
            &self.site_key,
            SDK_VERSION,
            header.context,
            &header.identity,
            header.experiments,
        );
        if encoded == self.header {
            return false;
        }
        let sealed = self.seal();
        self.header = encoded;
        sealed
    }

    /// Appends an encoded `Event`, closing the open batch first when it would not fit in
    /// `max_bytes`, and after it when `max_events` is reached. Returns true when a batch
    /// was closed (so the caller schedules a send).
    pub fn push(&mut self, event: &[u8]) -> bool {
        let len = wire::len_field_size(EVENTS_FIELD, event.len());
        let mut sealed = false;
        // 11 bytes: batch_seq now, sent_at_ms at send time; 6: evicted_batches (uint32) when
        // the batch leaves the outbox.
        if self.event_count > 0
            && self.header.len() + 11 + 11 + 6 + self.events.len() + len > self.limits.max_bytes
        {
            sealed = self.seal();
        }
        wire::raw(&mut self.events, EVENTS_FIELD, event);
        self.event_count += 1;
        if self.event_count >= self.limits.max_events {
            sealed |= self.seal();
        }
        sealed
    }

    pub fn pending_events(&self) -> usize {
        self.event_count
    }

    /// Closes the open batch (no-op when empty). Returns true when one was closed.
    pub fn seal(&mut self) -> bool {
        if self.event_count == 0 {
            return false;
        }
        let mut body = Vec::with_capacity(self.header.len() + 11 + self.events.len());
        body.extend_from_slice(&self.header);
        wire::uint(&mut body, BATCH_SEQ_FIELD, self.next_batch_seq);
        body.extend_from_slice(&self.events);
        self.outbox.push(Sealed {
            batch_seq: self.next_batch_seq,
            events: self.event_count,
            body,
        });
        self.events.clear();
        self.event_count = 0;
        self.next_batch_seq += 1;
        while self.outbox.len() > self.limits.max_outbox_batches.max(1) {
            let oldest = self.outbox.remove(0);
            self.dropped_events = self.dropped_events.saturating_add(oldest.events as u32);
        }
        true
    }

    /// The closed batches, oldest first, leaving the outbox empty.
    pub fn take_outbox(&mut self) -> Vec<Sealed> {
        core::mem::take(&mut self.outbox)
    }

    /// Forgets everything not yet sent (consent denied, opt-out).
    pub fn clear(&mut self) {
        self.events.clear();
        self.event_count = 0;
        self.outbox.clear();
    }
}

/// Adds `Batch.evicted_batches` to a freshly sealed body (before it is sent or queued, so a
/// retry carries the same report); omitted when 0.
pub fn report_evicted(body: &mut Vec<u8>, evicted: u32) {
    wire::uint(body, EVICTED_BATCHES_FIELD, u64::from(evicted));
}

/// The request body for `body` sent at `sent_at_ms`.
pub fn stamp(body: &[u8], sent_at_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 11);
    out.extend_from_slice(body);
    out.push(SENT_AT_TAG);
    wire::varint(&mut out, sent_at_ms.max(0) as u64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::{Kind, encode_event};
    use prost::Message;
    use sightline_proto::v1::Batch;

    fn limits(max_events: usize, max_bytes: usize) -> Limits {
        Limits {
            max_events,
            max_bytes,
            max_outbox_batches: 3,
        }
    }

    fn event(seq: u64, name_len: usize) -> Vec<u8> {
        let custom = Kind::Custom {
            name: "x".repeat(name_len),
            properties: Vec::new(),
        };
        encode_event(&[7; 16], 1_700_000_000_000, seq, &[1; 16], &custom)
    }

    fn set_header(queue: &mut BatchQueue, url: &str, user: &str) -> bool {
        let context = Context {
            url: url.into(),
            ..Default::default()
        };
        queue.set_header(&Header {
            context: &context,
            identity: Identity {
                user_id: user,
                ..Default::default()
            },
            experiments: &[],
        })
    }

    fn decode(sealed: &Sealed) -> Batch {
        Batch::decode(sealed.body.as_slice()).expect("own encoding decodes")
    }

    #[test]
    fn closes_at_max_events_with_increasing_batch_seq() {
        let mut queue = BatchQueue::new("site".into(), limits(2, 10_000));
        set_header(&mut queue, "https://a/", "");
        assert!(!queue.push(&event(1, 1)));
        assert!(queue.push(&event(2, 1)));
        assert!(!queue.push(&event(3, 1)));
        assert!(queue.seal());
        let outbox = queue.take_outbox();
        assert_eq!(
            outbox.iter().map(|s| s.batch_seq).collect::<Vec<_>>(),
            [1, 2]
        );
        let first = decode(&outbox[0]);
        assert_eq!(
            first.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(first.site_key, "site");
        assert_eq!(first.context.map(|c| c.url).as_deref(), Some("https://a/"));
        assert!(!queue.seal(), "sealing an empty batch does nothing");
    }

    #[test]
    fn never_exceeds_max_bytes_when_events_fit() {
        let max_bytes = 600;
        let limits = Limits {
            max_events: 1000,
            max_bytes,
            max_outbox_batches: 100,
        };
        let mut queue = BatchQueue::new("site".into(), limits);
        set_header(&mut queue, "https://example.com/some/page", "u");
        for seq in 1..=40 {
            queue.push(&event(seq, 40));
        }
        queue.seal();
        let outbox = queue.take_outbox();
        assert!(outbox.len() > 1);
        let mut next = 1;
        for sealed in &outbox {
            assert!(
                stamp(&sealed.body, 0).len() <= max_bytes + 11,
                "{}",
                sealed.body.len()
            );
            for ev in decode(sealed).events {
                assert_eq!(ev.seq, next, "no event lost or reordered");
                next += 1;
            }
        }
        assert_eq!(next, 41);
    }

    #[test]
    fn header_change_starts_a_new_batch() {
        let mut queue = BatchQueue::new("site".into(), limits(50, 10_000));
        set_header(&mut queue, "https://a/", "");
        queue.push(&event(1, 1));
        set_header(&mut queue, "https://a/", ""); // unchanged: same batch
        queue.push(&event(2, 1));
        set_header(&mut queue, "https://a/", "user-1");
        queue.push(&event(3, 1));
        set_header(&mut queue, "https://a/b", "user-1");
        queue.seal();
        let outbox = queue.take_outbox();
        assert_eq!(outbox.len(), 2);
        assert_eq!(decode(&outbox[0]).events.len(), 2);
        let second = decode(&outbox[1]);
        assert_eq!(
            second.identity.map(|i| i.user_id).as_deref(),
            Some("user-1")
        );
        assert_eq!(second.events[0].seq, 3);
    }

    #[test]
    fn outbox_is_bounded_and_counts_drops() {
        let mut queue = BatchQueue::new("site".into(), limits(1, 10_000));
        for seq in 1..=5 {
            queue.push(&event(seq, 1));
        }
        let outbox = queue.take_outbox();
        assert_eq!(
            outbox.iter().map(|s| s.batch_seq).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(queue.dropped_events, 2);
    }

    #[test]
    fn evictions_are_reported_when_nonzero() {
        let mut queue = BatchQueue::new("site".into(), limits(1, 10_000));
        queue.push(&event(1, 4));
        queue.push(&event(2, 4));
        let mut outbox = queue.take_outbox();
        let plain = outbox[1].body.clone();
        report_evicted(&mut outbox[0].body, 3);
        report_evicted(&mut outbox[1].body, 0);
        let reported = decode(&outbox[0]);
        assert_eq!((reported.evicted_batches, reported.batch_seq), (3, 1));
        assert_eq!(reported.events.len(), 1);
        assert_eq!(outbox[1].body, plain, "0 is not written");
        assert_eq!(decode(&outbox[1]).evicted_batches, 0);
        let mut huge = plain.clone();
        report_evicted(&mut huge, u32::MAX);
        let stamped = stamp(&huge, 1);
        assert_eq!(
            Batch::decode(stamped.as_slice())
                .expect("decodes")
                .evicted_batches,
            u32::MAX
        );
    }

    #[test]
    fn stamping_sets_sent_at_on_an_encoded_body() {
        let mut queue = BatchQueue::new("site".into(), limits(1, 10_000));
        queue.push(&event(1, 1));
        let sealed = &queue.take_outbox()[0];
        let first =
            Batch::decode(stamp(&sealed.body, 1_700_000_000_123).as_slice()).expect("decodes");
        assert_eq!(first.sent_at_ms, 1_700_000_000_123);
        let twice = stamp(&stamp(&sealed.body, 5), 1_700_000_000_999);
        assert_eq!(
            Batch::decode(twice.as_slice()).expect("decodes").sent_at_ms,
            1_700_000_000_999
        );
        assert_eq!(first.events.len(), 1);
    }
}
