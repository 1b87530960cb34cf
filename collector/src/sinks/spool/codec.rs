//! The spool's on-disk record format, and a reader that survives torn or corrupt bytes.
//!
//! A segment file is a sequence of frames:
//!
//! ```text
//! magic  u32 LE  0x5350_4C53 ("SLPS")  lets the reader find the next frame after damage
//! len    u32 LE  length of `body`      (at most MAX_BODY_LEN)
//! crc    u32 LE  CRC32C over len bytes ‖ body
//! body   version u8 (1) · topic · key · headers · payload   (see `encode_body`)
//! ```
//!
//! Strings and byte fields are `u32 LE length ‖ bytes`; the key is a presence byte
//! (0 / 1) followed by the string. Headers are a `u16 LE` count of name/value pairs, so
//! a replayed record carries exactly the headers it was accepted with: `schema`, `kind`,
//! `site`, and `sightline-layout` on record layout v2 (whose payload is then several
//! length-delimited events: the frame holds the whole Kafka record, not one event).
//!
//! The reader never panics on any input: a frame whose magic, length, CRC or body does
//! not check out is counted as one corrupt region and skipped by searching for the next
//! magic, so one flipped bit costs one record, and a torn tail after a crash costs only
//! the partial record.

use std::borrow::Cow;

use crate::sinks::{Record, RecordHeaders};

pub const MAGIC: u32 = 0x5350_4C53;
pub const HEADER_LEN: usize = 12;
/// Sanity bound on one record: larger lengths are corruption, not data.
pub const MAX_BODY_LEN: usize = 64 * 1024 * 1024;
const VERSION: u8 = 1;

/// Appends one frame for `record` to `out`.
pub fn encode_frame(record: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&[0; 8]); // len + crc, filled in below
    encode_body(record, out);
    let body_len = out.len() - start - HEADER_LEN;
    let len_bytes = u32::try_from(body_len).unwrap_or(u32::MAX).to_le_bytes();
    out[start + 4..start + 8].copy_from_slice(&len_bytes);
    let crc = crc32c::crc32c_append(
        crc32c::crc32c(&len_bytes),
        &out[start + HEADER_LEN..start + HEADER_LEN + body_len],
    );
    out[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

/// Frames for all `records`, ready to be appended with one write.
pub fn encode_frames(records: &[Record]) -> Vec<u8> {
    let size: usize = records
        .iter()
        .map(|r| HEADER_LEN + 64 + r.topic.len() + r.payload.len() + r.headers.site.len())
        .sum();
    let mut out = Vec::with_capacity(size);
    for record in records {
        encode_frame(record, &mut out);
    }
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn encode_body(record: &Record, out: &mut Vec<u8>) {
    out.push(VERSION);
    put_bytes(out, record.topic.as_bytes());
    match &record.key {
        Some(key) => {
            out.push(1);
            put_bytes(out, key.as_bytes());
        }
        None => out.push(0),
    }
    let headers = [
        Some((RecordHeaders::SCHEMA, record.headers.schema.as_ref())),
        Some((RecordHeaders::KIND, record.headers.kind.as_ref())),
        Some((RecordHeaders::SITE, record.headers.site.as_str())),
        // Only on v2 records, so frames of v1 records are what they always were.
        record
            .headers
            .layout
            .as_deref()
            .map(|layout| (RecordHeaders::LAYOUT, layout)),
    ];
    let count = headers.iter().flatten().count() as u16;
    out.extend_from_slice(&count.to_le_bytes());
    for (name, value) in headers.into_iter().flatten() {
        put_bytes(out, name.as_bytes());
        put_bytes(out, value.as_bytes());
    }
    put_bytes(out, &record.payload);
}

/// Why a frame's body could not be turned back into a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("unknown record version {0}")]
    Version(u8),
    #[error("record body ends early")]
    Truncated,
    #[error("record field is not UTF-8")]
    Utf8,
    #[error("record lacks header {0}")]
    MissingHeader(&'static str),
    #[error("{0} bytes after the payload")]
    Trailing(usize),
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BodyError> {
        if self.bytes.len() < n {
            return Err(BodyError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, BodyError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, BodyError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, BodyError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn bytes(&mut self) -> Result<&'a [u8], BodyError> {
        let len = self.u32()? as usize;
        self.take(len)
    }
    fn string(&mut self) -> Result<&'a str, BodyError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| BodyError::Utf8)
    }
}

/// Decodes a frame body (CRC already checked).
pub fn decode_body(body: &[u8]) -> Result<Record, BodyError> {
    let mut c = Cursor { bytes: body };
    let version = c.u8()?;
    if version != VERSION {
        return Err(BodyError::Version(version));
    }
    let topic = c.string()?;
    let key = match c.u8()? {
        0 => None,
        _ => Some(c.string()?.to_owned()),
    };
    let (mut schema, mut kind, mut site, mut layout) = (None, None, None, None);
    for _ in 0..c.u16()? {
        let name = c.string()?;
        let value = c.string()?;
        match name {
            RecordHeaders::SCHEMA => schema = Some(value),
            RecordHeaders::KIND => kind = Some(value),
            RecordHeaders::SITE => site = Some(value),
            RecordHeaders::LAYOUT => layout = Some(value),
            // Headers a later version may add are kept out of today's Record.
            _ => {}
        }
    }
    let payload = c.bytes()?.to_vec();
    if !c.bytes.is_empty() {
        return Err(BodyError::Trailing(c.bytes.len()));
    }
    Ok(Record {
        topic: topic.into(),
        key,
        payload,
        headers: RecordHeaders {
            schema: Cow::Owned(
                schema
                    .ok_or(BodyError::MissingHeader(RecordHeaders::SCHEMA))?
                    .to_owned(),
            ),
            kind: Cow::Owned(
                kind.ok_or(BodyError::MissingHeader(RecordHeaders::KIND))?
                    .to_owned(),
            ),
            site: site
                .ok_or(BodyError::MissingHeader(RecordHeaders::SITE))?
                .to_owned(),
            // Replayed as it was accepted, whatever the layout (a spool written by an
            // older or newer collector replays its own records unchanged).
            layout: layout.map(|l| Cow::Owned(l.to_owned())),
        },
    })
}

/// One step of reading a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A good record and the bytes its frame occupied.
    Record { record: Record, len: usize },
    /// `len` bytes that are not a valid frame (bad magic, length, CRC or body); skip them.
    Corrupt { len: usize },
    /// The buffer ends inside a frame. At the true end of a segment this is a torn
    /// tail; otherwise read more bytes and try again.
    Incomplete { needed: usize },
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Distance from `from` to the next possible frame start (a magic), or to the end.
fn next_magic(buf: &[u8], from: usize) -> usize {
    let magic = MAGIC.to_le_bytes();
    buf[from..]
        .windows(4)
        .position(|w| w == magic)
        .map_or(buf.len() - from, |p| p)
}

/// Reads the frame at the start of `buf`. Never panics, whatever `buf` holds.
pub fn read_frame(buf: &[u8]) -> Frame {
    if buf.len() < HEADER_LEN {
        return Frame::Incomplete {
            needed: HEADER_LEN - buf.len(),
        };
    }
    let resync = || Frame::Corrupt {
        len: 1 + next_magic(buf, 1),
    };
    if le_u32(buf, 0) != MAGIC {
        return Frame::Corrupt {
            len: next_magic(buf, 0).max(1),
        };
    }
    let body_len = le_u32(buf, 4) as usize;
    if body_len > MAX_BODY_LEN {
        return resync();
    }
    let total = HEADER_LEN + body_len;
    if buf.len() < total {
        return Frame::Incomplete {
            needed: total - buf.len(),
        };
    }
    let body = &buf[HEADER_LEN..total];
    let crc = crc32c::crc32c_append(crc32c::crc32c(&buf[4..8]), body);
    if crc != le_u32(buf, 8) {
        return resync();
    }
    match decode_body(body) {
        Ok(record) => Frame::Record { record, len: total },
        // The CRC held, so the frame boundary is right: skip exactly this frame.
        Err(_) => Frame::Corrupt { len: total },
    }
}

/// What reading a whole buffer found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub records: Vec<Record>,
    /// Corrupt regions skipped (each counts once).
    pub corrupt: u64,
    /// Bytes consumed: everything when `at_end`, else up to the last complete frame.
    pub consumed: usize,
    /// Bytes still missing for the frame that starts at `consumed` (0 if none).
    pub needed: usize,
}

/// Reads every frame in `buf`. With `at_end`, an incomplete last frame is a torn tail
/// (counted as corrupt and consumed); without it, reading stops before it.
pub fn scan(buf: &[u8], at_end: bool) -> Scan {
    scan_limited(buf, at_end, usize::MAX)
}

/// Like [`scan`], but stops after `max_records` good records.
pub fn scan_limited(buf: &[u8], at_end: bool, max_records: usize) -> Scan {
    let mut out = Scan::default();
    while out.consumed < buf.len() && out.records.len() < max_records {
        match read_frame(&buf[out.consumed..]) {
            Frame::Record { record, len } => {
                out.records.push(record);
                out.consumed += len;
            }
            Frame::Corrupt { len } => {
                out.corrupt += 1;
                out.consumed += len;
            }
            Frame::Incomplete { needed } => {
                if at_end {
                    out.corrupt += 1;
                    out.consumed = buf.len();
                } else {
                    out.needed = needed;
                }
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(i: usize) -> Record {
        Record {
            topic: format!("sightline.t{}", i % 3).into(),
            key: (i % 2 == 0).then(|| format!("user-{i}")),
            payload: vec![i as u8; i * 7 % 300],
            headers: RecordHeaders {
                schema: "sightline.v1.CollectedEvent".into(),
                kind: "click".into(),
                site: "demo".into(),
                // Both layouts: v2 frames carry the layout header, v1 frames do not.
                layout: (i % 3 == 0).then_some("delimited-v2".into()),
            },
        }
    }

    #[test]
    fn frames_round_trip_exactly() {
        let records: Vec<Record> = (0..50).map(record).collect();
        let bytes = encode_frames(&records);
        let scan = scan(&bytes, true);
        assert_eq!(scan.records, records);
        assert_eq!(scan.corrupt, 0);
        assert_eq!(scan.consumed, bytes.len());
    }

    #[test]
    fn a_torn_tail_costs_only_the_partial_record() {
        let records: Vec<Record> = (0..10).map(record).collect();
        let bytes = encode_frames(&records);
        for cut in [1, 5, 13, 40] {
            let torn = &bytes[..bytes.len() - cut];
            let at_end = scan(torn, true);
            assert_eq!(at_end.records, records[..9], "cut {cut}");
            assert_eq!(at_end.corrupt, 1);
            let mid = scan(torn, false);
            assert_eq!(mid.records.len(), 9);
            assert_eq!(mid.corrupt, 0, "not at the end: just wait for more bytes");
            assert!(mid.needed > 0);
        }
    }

    #[test]
    fn a_flipped_bit_costs_one_record_and_reading_resumes() {
        let records: Vec<Record> = (0..10).map(record).collect();
        let mut bytes = encode_frames(&records);
        let third = encode_frames(&records[..3]).len();
        bytes[third + HEADER_LEN + 2] ^= 0x40; // inside record 3's body
        let out = scan(&bytes, true);
        assert_eq!(out.corrupt, 1);
        let mut expected = records.clone();
        expected.remove(3);
        assert_eq!(out.records, expected);
    }

    /// The fuzz corpus holds a frame of a v2 record (a request's events, length-delimited,
    /// header `sightline-layout`): it reads back with its layout, and its events with the
    /// reader every consumer uses.
    #[test]
    fn a_v2_record_frame_reads_back_with_its_layout() {
        let frame = include_bytes!("../../../fuzz/corpus/spool_segment_reader/v2_record");
        let out = scan(frame, true);
        assert_eq!(out.corrupt, 0);
        let [record] = out.records.as_slice() else {
            panic!("one record, got {}", out.records.len());
        };
        assert_eq!(
            record.headers.layout.as_deref(),
            Some(sightline_proto::record::LAYOUT_DELIMITED_V2)
        );
        let layout = record.headers.layout.as_deref().map(str::as_bytes);
        let events = sightline_proto::record::read_record(
            [(RecordHeaders::LAYOUT, layout)],
            &record.payload,
        )
        .unwrap();
        assert_eq!(events.filter(Result::is_ok).count(), 8);
        assert_eq!(encode_frames(&out.records), frame.to_vec());
    }

    #[test]
    fn garbage_is_corrupt_never_a_panic() {
        let out = scan(&[0xff; 100], true);
        assert!(out.records.is_empty());
        assert!(out.corrupt >= 1);
        assert_eq!(out.consumed, 100);
        // A valid header announcing an absurd length.
        let mut bytes = MAGIC.to_le_bytes().to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        assert!(scan(&bytes, true).corrupt >= 1);
    }
}
