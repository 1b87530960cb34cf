//! Generates the Rust types of the wire contract from `sightline/v1/*.proto` with a
//! pure-Rust compiler (protox), so neither the native nor the wasm32 build needs `protoc`.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "sightline/v1/event.proto",
    "sightline/v1/batch.proto",
    "sightline/v1/collected.proto",
];

/// The 16-byte ids, shown as hex in JSON.
const ID_FIELDS: &[&str] = &[
    ".sightline.v1.Event.event_id",
    ".sightline.v1.Event.page_view_id",
    ".sightline.v1.AdImpression.impression_id",
    ".sightline.v1.AdClick.impression_id",
];

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
