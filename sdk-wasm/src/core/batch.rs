//! Batch building: events are appended to the open batch until it reaches `max_events` or
//! `max_bytes`, or until the page context or identity changes (so a batch's context is true
//! for every event in it). Closed batches wait in a bounded outbox as encoded bytes.
//!
//! A batch is written in field-number order, like prost and protoc write it (so the bytes
//! the SDK sends equal `Batch::encode_to_vec()`, see `tests/wire_contract.rs`): site key and
//! version (1–2), `sent_at_ms` (3, inserted by [`stamp`] at send time), `batch_seq` (4),
//! context, identity, experiments (5–7), events (8), `evicted_batches` and `signals` (9–10) and
//! `privacy_mode` and `consent` (11–12), the last three added by [`report_evicted`].

use alloc::{string::String, vec::Vec};

use super::{
    event::{Context, Identity, encode_header, encode_source},
    schema::batch,
    wire,
};

/// Version reported in every batch.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
    /// Closed batches kept while they cannot be sent (consent pending); the oldest go first.
    pub max_outbox_batches: usize,
}

/// What every event of a batch shares, borrowed from the SDK's state (encoded at once).
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    pub context: &'a Context,
    pub identity: Identity<'a>,
    pub experiments: &'a [(String, String)],
    /// The privacy state (`core::privacy`) the batch is built under.
    pub privacy: u32,
}

/// An encoded batch without `sent_at_ms`; see [`stamp`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed {
    pub batch_seq: u64,
    pub events: usize,
    pub body: Vec<u8>,
    /// The privacy state it was built under, written by [`report_evicted`].
    pub privacy: u32,
}

#[derive(Debug)]
pub struct BatchQueue {
    limits: Limits,
    /// Fields 1–2 (site key, SDK version), the same for every batch.
    source: Vec<u8>,
    /// Fields 5–7 of the open batch; comparing bytes tells whether the header changed.
    header: Vec<u8>,
    /// The privacy state of the open batch (a change closes it, like the header's).
    privacy: u32,
    /// Encoded `events` fields of the open batch, back to back.
    events: Vec<u8>,
    event_count: usize,
    next_batch_seq: u64,
    outbox: Vec<Sealed>,
    /// Events dropped because the outbox was full.
    pub dropped_events: u32,
}

impl BatchQueue {
    pub fn new(site_key: &str, limits: Limits) -> BatchQueue {
        BatchQueue {
            limits,
            source: encode_source(site_key, SDK_VERSION),
            header: encode_header(&Context::default(), &Identity::default(), &[]),
            privacy: 0,
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
        let encoded = encode_header(header.context, &header.identity, header.experiments);
        if encoded == self.header && header.privacy == self.privacy {
            return false;
        }
        let sealed = self.seal();
        self.header = encoded;
        self.privacy = header.privacy;
        sealed
    }

    /// Appends an encoded `Event`, closing the open batch first when it would not fit in
    /// `max_bytes`, and after it when `max_events` is reached. Returns true when a batch
    /// was closed (so the caller schedules a send).
    pub fn push(&mut self, event: &[u8]) -> bool {
        let len = wire::len_field_size(batch::EVENTS, event.len());
        let mut sealed = false;
        // 11 bytes: batch_seq now, sent_at_ms at send time; 6: evicted_batches (uint32) and
        // 6: signals when the batch leaves the outbox.
        let shared = self.source.len() + 11 + 11 + self.header.len() + 12;
        if self.event_count > 0 && shared + self.events.len() + len > self.limits.max_bytes {
            sealed = self.seal();
        }
        wire::encoded_message(&mut self.events, batch::EVENTS, event);
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
        let mut body =
            Vec::with_capacity(self.source.len() + 11 + self.header.len() + self.events.len());
        body.extend_from_slice(&self.source);
        wire::uint64(&mut body, batch::BATCH_SEQ, self.next_batch_seq);
        body.extend_from_slice(&self.header);
        body.extend_from_slice(&self.events);
        self.outbox.push(Sealed {
            batch_seq: self.next_batch_seq,
            events: self.event_count,
            body,
            privacy: self.privacy,
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

    /// Fields 1–2 of every batch (site key, SDK version): where [`stamp`] puts `sent_at_ms`.
    pub fn source(&self) -> &[u8] {
        &self.source
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

/// Adds `Batch.evicted_batches` and `Batch.signals` (each omitted when 0), then
/// `privacy_mode` and `consent` (the last fields of a batch, from the `privacy` state) to a
/// freshly sealed body, before it is sent or queued, so a retry carries the same report.
/// `signals`: bit 0 `navigator.webdriver`, bit 1 `document.prerendering`.
pub fn report_evicted(body: &mut Vec<u8>, evicted: u32, signals: u32, privacy: u32) {
    wire::uint32(body, batch::EVICTED_BATCHES, evicted);
    if signals != 0 {
        use super::schema::client_signals::*;
        let mut m = Vec::new();
        wire::boolean(&mut m, WEBDRIVER, signals & 1 != 0);
        wire::boolean(&mut m, PRERENDERING, signals & 2 != 0);
        wire::encoded_message(body, batch::SIGNALS, &m);
    }
    super::privacy::encode(body, privacy);
}

/// The request body for `body` (sealed, or read back from the durable queue: never stamped)
/// sent at `sent_at_ms`. The field goes right after the site key and version (`source`, the
/// SDK's own [`BatchQueue::source`]), so the request is in field-number order; a stored body
/// of another SDK version or site key gets it at the end (still valid protobuf: order is
/// free on the wire, only prost and protoc happen to write fields in number order).
pub fn stamp(source: &[u8], body: &[u8], sent_at_ms: i64) -> Vec<u8> {
    let at = if body.starts_with(source) {
        source.len()
    } else {
        body.len()
    };
    let (head, rest) = body.split_at(at);
    let mut out = Vec::with_capacity(body.len() + 11);
    out.extend_from_slice(head);
    wire::int64(&mut out, batch::SENT_AT_MS, sent_at_ms.max(0));
    out.extend_from_slice(rest);
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
        let name = "x".repeat(name_len);
        let custom = Kind::Custom {
            name: &name,
            properties: &[],
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
            privacy: 0,
        })
    }

    fn decode(sealed: &Sealed) -> Batch {
        Batch::decode(sealed.body.as_slice()).expect("own encoding decodes")
    }

    #[test]
    fn closes_at_max_events_with_increasing_batch_seq() {
        let mut queue = BatchQueue::new("site", limits(2, 10_000));
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
        let mut queue = BatchQueue::new("site", limits);
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
                stamp(queue.source(), &sealed.body, 0).len() <= max_bytes + 11,
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
        let mut queue = BatchQueue::new("site", limits(50, 10_000));
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
        let mut queue = BatchQueue::new("site", limits(1, 10_000));
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
        let mut queue = BatchQueue::new("site", limits(1, 10_000));
        queue.push(&event(1, 4));
        queue.push(&event(2, 4));
        let mut outbox = queue.take_outbox();
        let plain = outbox[1].body.clone();
        let mut privacy_only = plain.clone();
        crate::core::privacy::encode(&mut privacy_only, 0);
        report_evicted(&mut outbox[0].body, 3, 0, 0);
        report_evicted(&mut outbox[1].body, 0, 0, 0);
        let reported = decode(&outbox[0]);
        assert_eq!((reported.evicted_batches, reported.batch_seq), (3, 1));
        assert_eq!(reported.events.len(), 1);
        assert_eq!(outbox[1].body, privacy_only, "0 is not written");
        assert_eq!(decode(&outbox[1]).evicted_batches, 0);
        let mut huge = plain.clone();
        report_evicted(&mut huge, u32::MAX, 0, 0);
        let stamped = stamp(queue.source(), &huge, 1);
        assert_eq!(
            Batch::decode(stamped.as_slice())
                .expect("decodes")
                .evicted_batches,
            u32::MAX
        );
    }

    #[test]
    fn signals_follow_the_evictions_when_any() {
        let mut queue = BatchQueue::new("site", limits(1, 10_000));
        queue.push(&event(1, 4));
        let mut outbox = queue.take_outbox();
        let plain = outbox[0].body.clone();
        for (bits, webdriver, prerendering) in [(1, true, false), (2, false, true), (3, true, true)]
        {
            let mut body = plain.clone();
            report_evicted(&mut body, 2, bits, 0);
            let batch = Batch::decode(stamp(queue.source(), &body, 1).as_slice()).expect("decodes");
            let signals = batch.signals.expect("signals written");
            assert_eq!(
                (signals.webdriver, signals.prerendering),
                (webdriver, prerendering)
            );
            assert_eq!(batch.evicted_batches, 2);
        }
        report_evicted(&mut outbox[0].body, 0, 0, 0);
        let mut privacy_only = plain.clone();
        crate::core::privacy::encode(&mut privacy_only, 0);
        assert_eq!(
            outbox[0].body, privacy_only,
            "no signals: only the privacy fields"
        );
    }

    #[test]
    fn stamping_sets_sent_at_on_an_encoded_body() {
        let mut queue = BatchQueue::new("site", limits(1, 10_000));
        queue.push(&event(1, 1));
        let sealed = &queue.take_outbox()[0];
        let first =
            Batch::decode(stamp(queue.source(), &sealed.body, 1_700_000_000_123).as_slice())
                .expect("decodes");
        assert_eq!(first.sent_at_ms, 1_700_000_000_123);
        assert_eq!(first.events.len(), 1);
        // A retry stamps the stored (unstamped) body again: the new time, nothing else.
        let retry = stamp(queue.source(), &sealed.body, 1_700_000_000_999);
        let again = Batch::decode(retry.as_slice()).expect("decodes");
        assert_eq!(again.sent_at_ms, 1_700_000_000_999);
        // Written in field-number order: the stamped body is prost's encoding.
        assert_eq!(retry, again.encode_to_vec());
        assert_eq!(
            Batch {
                sent_at_ms: 0,
                ..again
            },
            Batch {
                sent_at_ms: 0,
                ..first
            }
        );
        // A stored body of another site key or SDK version gets the field at the end.
        let other = BatchQueue::new("other-site", limits(1, 10_000));
        let foreign = stamp(other.source(), &sealed.body, 7);
        assert_eq!(foreign[..sealed.body.len()], sealed.body[..]);
        assert_eq!(
            Batch::decode(foreign.as_slice())
                .expect("decodes")
                .sent_at_ms,
            7
        );
    }
}
