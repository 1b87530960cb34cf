//! The Kafka record contract: how `CollectedEvent`s are laid out in a record's value, and
//! the one reader every consumer uses for both layouts (see proto/README.md, "Kafka record
//! contract").
//!
//! - **v1** (`routing.records = "per_event"`, and every record written before layout v2):
//!   no `sightline-layout` header; the value is exactly one `CollectedEvent`.
//! - **v2** (`per_batch`, the default, and `per_kind`): header `sightline-layout:
//!   delimited-v2`; the value is one or more `CollectedEvent`s, each preceded by its length
//!   as a protobuf varint (what protobuf's `writeDelimitedTo` and ClickHouse's `Protobuf`
//!   format read and write).
//!
//! Dead-letter records (`RejectedEvent`) are not part of this: always one per record.

use alloc::string::String;
use core::fmt;

use prost::Message;

use crate::v1::CollectedEvent;

/// Record header naming the value's layout; absent on v1 records.
pub const LAYOUT_HEADER: &str = "sightline-layout";
/// Its value on v2 records.
pub const LAYOUT_DELIMITED_V2: &str = "delimited-v2";

/// How a record's value holds its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One `CollectedEvent`, no length prefix.
    SingleV1,
    /// Length-delimited `CollectedEvent`s, at least one.
    DelimitedV2,
}

impl Layout {
    /// The layout named by the `sightline-layout` header's value (`None`: no header).
    pub fn from_header(value: Option<&[u8]>) -> Result<Self, RecordError> {
        match value {
            None => Ok(Self::SingleV1),
            Some(v) if v == LAYOUT_DELIMITED_V2.as_bytes() => Ok(Self::DelimitedV2),
            Some(v) => Err(RecordError::UnknownLayout(
                String::from_utf8_lossy(v).into_owned(),
            )),
        }
    }

    /// The layout of a record with these headers (name, value); the first
    /// `sightline-layout` header counts.
    pub fn of_headers<'h>(
        headers: impl IntoIterator<Item = (&'h str, Option<&'h [u8]>)>,
    ) -> Result<Self, RecordError> {
        let value = headers
            .into_iter()
            .find(|(name, _)| *name == LAYOUT_HEADER)
            .and_then(|(_, value)| value);
        Self::from_header(value)
    }
}

/// Why a record's value could not be read as events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// A `sightline-layout` this reader does not know (a newer producer): skip or upgrade,
    /// never guess.
    UnknownLayout(String),
    /// A v2 length prefix runs past the end of the value, or is not a varint.
    Truncated { offset: usize },
    /// A message did not decode as `CollectedEvent`.
    Decode { offset: usize, detail: String },
    /// A v2 record with no event in it (the collector never writes one).
    Empty,
}

impl RecordError {
    /// Stable name for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownLayout(_) => "unknown_layout",
            Self::Truncated { .. } => "truncated",
            Self::Decode { .. } => "decode",
            Self::Empty => "empty",
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownLayout(name) => write!(f, "unknown record layout {name:?}"),
            Self::Truncated { offset } => {
                write!(f, "length-delimited event at byte {offset} is truncated")
            }
            Self::Decode { offset, detail } => {
                write!(f, "event at byte {offset} does not decode: {detail}")
            }
            Self::Empty => write!(f, "delimited record holds no event"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RecordError {}

/// The events of one record, in the order the collector accepted them.
pub struct Events<'a> {
    layout: Layout,
    value: &'a [u8],
    offset: usize,
    done: bool,
}

impl Events<'_> {
    pub fn layout(&self) -> Layout {
        self.layout
    }
}

impl Iterator for Events<'_> {
    type Item = Result<CollectedEvent, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.layout {
            Layout::SingleV1 => {
                self.done = true;
                Some(decode_at(self.value, 0))
            }
            Layout::DelimitedV2 => {
                if self.offset >= self.value.len() {
                    self.done = true;
                    return (self.offset == 0).then_some(Err(RecordError::Empty));
                }
                let start = self.offset;
                let mut rest = &self.value[start..];
                let before = rest.len();
                let Ok(len) = prost::encoding::decode_varint(&mut rest) else {
                    self.done = true;
                    return Some(Err(RecordError::Truncated { offset: start }));
                };
                let body_start = start + (before - rest.len());
                let Some(body) = usize::try_from(len)
                    .ok()
                    .and_then(|len| self.value.get(body_start..body_start.checked_add(len)?))
                else {
                    self.done = true;
                    return Some(Err(RecordError::Truncated { offset: start }));
                };
                self.offset = body_start + body.len();
                let event = decode_at(body, body_start);
                // After a bad message the boundaries still hold: keep reading the others.
                Some(event)
            }
        }
    }
}

fn decode_at(bytes: &[u8], offset: usize) -> Result<CollectedEvent, RecordError> {
    CollectedEvent::decode(bytes).map_err(|err| RecordError::Decode {
        offset,
        detail: alloc::format!("{err}"),
    })
}

/// Reads a `CollectedEvent` record of either layout: `headers` are the record's (name,
/// value) pairs, `value` its payload. Fails only on an unknown layout; each event is a
/// `Result` of its own, so one bad message in a v2 record does not hide the others.
pub fn read_record<'h, 'a>(
    headers: impl IntoIterator<Item = (&'h str, Option<&'h [u8]>)>,
    value: &'a [u8],
) -> Result<Events<'a>, RecordError> {
    Ok(events(Layout::of_headers(headers)?, value))
}

/// The events of `value` in a known layout.
pub fn events(layout: Layout, value: &[u8]) -> Events<'_> {
    Events {
        layout,
        value,
        offset: 0,
        done: false,
    }
}

/// Appends `event` to a v2 value (varint length, then the message). The collector has its
/// own encoder that splices shared fields; this one is for tools and tests.
pub fn push_delimited(event: &CollectedEvent, value: &mut alloc::vec::Vec<u8>) {
    // Encoding into a Vec cannot fail: it grows as needed.
    let _ = event.encode_length_delimited(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{vec, vec::Vec};

    fn event(n: i64) -> CollectedEvent {
        CollectedEvent {
            user_key: alloc::format!("u{n}"),
            event_time_ms: n,
            ..Default::default()
        }
    }

    #[test]
    fn v1_is_one_event_without_a_header() {
        let value = event(7).encode_to_vec();
        let read: Vec<_> = read_record([], &value).unwrap().collect();
        assert_eq!(read, vec![Ok(event(7))]);
    }

    #[test]
    fn v2_is_every_delimited_event_in_order() {
        let mut value = Vec::new();
        for n in 1..=3 {
            push_delimited(&event(n), &mut value);
        }
        let headers = [
            ("kind", Some(&b"search"[..])),
            (LAYOUT_HEADER, Some(LAYOUT_DELIMITED_V2.as_bytes())),
        ];
        let read: Vec<_> = read_record(headers, &value).unwrap().collect();
        assert_eq!(read, vec![Ok(event(1)), Ok(event(2)), Ok(event(3))]);
    }

    #[test]
    fn unknown_layout_truncation_and_empty_are_errors_not_panics() {
        let unknown = [(LAYOUT_HEADER, Some(&b"delimited-v9"[..]))];
        assert_eq!(
            read_record(unknown, b"").err().map(|e| e.code()),
            Some("unknown_layout")
        );
        let mut value = Vec::new();
        push_delimited(&event(1), &mut value);
        let cut = &value[..value.len() - 1];
        let read: Vec<_> = events(Layout::DelimitedV2, cut).collect();
        assert_eq!(read, vec![Err(RecordError::Truncated { offset: 0 })]);
        let read: Vec<_> = events(Layout::DelimitedV2, &[]).collect();
        assert_eq!(read, vec![Err(RecordError::Empty)]);
        let read: Vec<_> = events(Layout::DelimitedV2, &[0xff; 12]).collect();
        assert_eq!(read.len(), 1);
        assert!(read[0].is_err());
    }

    #[test]
    fn a_bad_message_does_not_hide_the_next_one() {
        let mut value = vec![2, 0xff, 0xff];
        push_delimited(&event(2), &mut value);
        let read: Vec<_> = events(Layout::DelimitedV2, &value).collect();
        assert_eq!(read.len(), 2);
        assert!(read[0].is_err());
        assert_eq!(read[1], Ok(event(2)));
    }
}
