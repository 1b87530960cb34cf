//! The JSON import API (issue 19): Segment-spec messages from backends and apps — the
//! Segment and RudderStack libraries, or curl — into the same pipeline as browser
//! batches: write key → limits → one `CollectedEvent` per message, dead letter with a
//! reason per bad message, 200 only once every record is durable.
//!
//! `auth` (write keys), `json` (bounded decoding), `timestamp` (ISO 8601), `event_id`
//! (message id → 16-byte event id), `properties` (typed, flattened), `context` (campaign,
//! device, os, screen, timezone), `mapping` (message → `Batch` of one event), `ingest`
//! (the request, end to end).

pub mod auth;
pub mod context;
pub mod event_id;
pub mod ingest;
pub mod json;
pub mod mapping;
pub mod properties;
pub mod timestamp;

/// Paths of the import API. `/v1/batch` is shared with the browser's protobuf batches:
/// a request with an `Authorization` header or a JSON `Content-Type` is an import.
pub const IMPORT_PATHS: &[(&str, Shape)] = &[
    ("/v1/import/batch", Shape::Batch),
    ("/v1/import/track", Shape::Single(MessageType::Track)),
    ("/v1/import/page", Shape::Single(MessageType::Page)),
    ("/v1/import/screen", Shape::Single(MessageType::Screen)),
    ("/v1/import/identify", Shape::Single(MessageType::Identify)),
    ("/v1/import/group", Shape::Single(MessageType::Group)),
    ("/v1/import/alias", Shape::Single(MessageType::Alias)),
    // Segment's HTTP Tracking API spells them without `import/` (mobile libraries, curl).
    ("/v1/track", Shape::Single(MessageType::Track)),
    ("/v1/page", Shape::Single(MessageType::Page)),
    ("/v1/screen", Shape::Single(MessageType::Screen)),
    ("/v1/identify", Shape::Single(MessageType::Identify)),
    ("/v1/group", Shape::Single(MessageType::Group)),
    ("/v1/alias", Shape::Single(MessageType::Alias)),
    ("/v1/import", Shape::Batch),
];

/// What a request body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"batch": [message, …], "sentAt": …, "context": …}`
    Batch,
    /// One message; its `type` defaults to the path's.
    Single(MessageType),
}

/// The Segment spec's message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Track,
    Page,
    Screen,
    Identify,
    Group,
    Alias,
}

impl MessageType {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "track" => Self::Track,
            "page" => Self::Page,
            "screen" => Self::Screen,
            "identify" => Self::Identify,
            "group" => Self::Group,
            "alias" => Self::Alias,
            _ => return None,
        })
    }
}

/// The shape served at `path`, if it is an import path.
pub fn shape_of(path: &str) -> Option<Shape> {
    IMPORT_PATHS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, shape)| *shape)
}
