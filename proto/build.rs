//! Generates the Rust types of the wire contract from `sightline/v1/*.proto` with a
//! pure-Rust compiler (protox), so neither the native nor the wasm32 build needs `protoc`;
//! and, from the same descriptors, the event kind table (`kinds.rs`): every `EventKind`
//! value with its name and its `Event.kind` oneof variant, so a kind is declared once, in
//! `event.proto`.

use std::path::PathBuf;

use prost_types::FileDescriptorSet;

const PROTOS: &[&str] = &[
    "sightline/v1/event.proto",
    "sightline/v1/batch.proto",
    "sightline/v1/collected.proto",
    "sightline/v1/decision.proto",
];

/// The 16-byte ids, shown as hex in JSON.
const ID_FIELDS: &[&str] = &[
    ".sightline.v1.Event.event_id",
    ".sightline.v1.Event.page_view_id",
    ".sightline.v1.AdImpression.impression_id",
    ".sightline.v1.AdClick.impression_id",
    ".sightline.v1.AdVideo.impression_id",
];

/// Prefix of every `EventKind` value's name; the rest, in lower case, is the kind's name.
const KIND_VALUE_PREFIX: &str = "EVENT_KIND_";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("topics.txt").display()
    );

    let descriptors = protox::compile(PROTOS, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("kinds.rs"), kinds_rs(&descriptors)?)?;

    let mut config = prost_build::Config::new();
    // Sorted maps: encoding is deterministic, so equal messages give equal bytes.
    config.btree_map(["."]);
    // JSON views (sightline-tail, test recorders) behind the `serde` feature; the wasm
    // SDK never enables it. Ids are printed as hex, enums by name.
    config.type_attribute(
        ".",
        "#[cfg_attr(feature = \"serde\", derive(serde::Serialize, serde::Deserialize))]",
    );
    config.message_attribute(".", "#[cfg_attr(feature = \"serde\", serde(default))]");
    for id_field in ID_FIELDS {
        config.field_attribute(
            id_field,
            "#[cfg_attr(feature = \"serde\", serde(with = \"crate::serde_hex\"))]",
        );
    }
    config.compile_fds(descriptors)?;
    Ok(())
}

/// `PAGE_VIEW` / `page_view` → `PageView`, as prost names enum variants and oneof variants.
fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The kind table: `EventKind::ALL`, `name()`, `from_name()` and `kind_of()`, checked
/// against the `Event.kind` oneof: every kind but `UNSPECIFIED` must be a oneof field of
/// the same name, and every oneof field a kind, so the two can never disagree.
fn kinds_rs(descriptors: &FileDescriptorSet) -> Result<String, String> {
    let file = descriptors
        .file
        .iter()
        .find(|f| f.package() == "sightline.v1" && f.name().ends_with("event.proto"))
        .ok_or("event.proto not compiled")?;
    let kind_enum = file
        .enum_type
        .iter()
        .find(|e| e.name() == "EventKind")
        .ok_or("enum EventKind not found in event.proto")?;
    let event = file
        .message_type
        .iter()
        .find(|m| m.name() == "Event")
        .ok_or("message Event not found in event.proto")?;
    let oneof_index = event
        .oneof_decl
        .iter()
        .position(|o| o.name() == "kind")
        .ok_or("Event has no oneof kind")?;
    let oneof_fields: Vec<&str> = event
        .field
        .iter()
        .filter(|f| f.oneof_index == Some(oneof_index as i32) && !f.proto3_optional())
        .map(|f| f.name())
        .collect();

    // (number, name, variant) of every kind, in enum order; kind 0 has no payload.
    let mut kinds = Vec::new();
    for value in &kind_enum.value {
        let name = value
            .name()
            .strip_prefix(KIND_VALUE_PREFIX)
            .ok_or_else(|| format!("EventKind value {} lacks {KIND_VALUE_PREFIX}", value.name()))?
            .to_ascii_lowercase();
        if value.number() != 0 && !oneof_fields.contains(&name.as_str()) {
            return Err(format!(
                "EventKind {} has no field `{name}` in the oneof Event.kind: a kind and its payload are added together",
                value.name()
            ));
        }
        kinds.push((
            value.number(),
            name,
            upper_camel(value.name().trim_start_matches(KIND_VALUE_PREFIX)),
        ));
    }
    for field in &oneof_fields {
        if !kinds.iter().any(|(n, name, _)| *n != 0 && name == field) {
            return Err(format!(
                "Event.kind field `{field}` has no EventKind value {KIND_VALUE_PREFIX}{}",
                field.to_ascii_uppercase()
            ));
        }
    }

    let payload: Vec<_> = kinds.iter().filter(|(n, _, _)| *n != 0).collect();
    let all: String = payload
        .iter()
        .map(|(_, _, variant)| format!("        EventKind::{variant},\n"))
        .collect();
    let names: String = kinds
        .iter()
        .map(|(_, name, variant)| format!("            EventKind::{variant} => \"{name}\",\n"))
        .collect();
    let of_payload: String = payload
        .iter()
        .map(|(_, _, variant)| {
            format!("        Some(event::Kind::{variant}(_)) => EventKind::{variant},\n")
        })
        .collect();
    let count = payload.len();
    let rs = format!(
        r#"// Generated by proto/build.rs from enum EventKind and oneof Event.kind; do not edit.

impl EventKind {{
    /// Every kind an event can have (all but `Unspecified`), in enum order.
    pub const ALL: [EventKind; {count}] = [
{all}    ];

    /// The kind's name: its value's name without `{KIND_VALUE_PREFIX}`, in lower case, which is
    /// also its `Event.kind` field (`page_view`); `unspecified` for kind 0. Used in config
    /// keys, record headers, metric labels, `sightline-tail` and ClickHouse.
    pub const fn name(self) -> &'static str {{
        match self {{
{names}        }}
    }}

    /// The kind named `name` (see [`EventKind::name`]); `None` for unknown names and for
    /// `unspecified`, which no event can have.
    pub fn from_name(name: &str) -> Option<Self> {{
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }}
}}

/// The [`EventKind`] of an event's payload; `Unspecified` when the payload is missing.
pub fn kind_of(kind: Option<&event::Kind>) -> EventKind {{
    match kind {{
        None => EventKind::Unspecified,
{of_payload}    }}
}}
"#
    );
    Ok(rs)
}
