//! Sightline's wire contract, version 1 (protobuf package `sightline.v1`).
//!
//! The `.proto` files under `proto/sightline/v1/` are the source of truth; this crate is
//! their generated Rust form plus the few helpers every side needs: event kinds by name
//! (`EventKind::ALL`, `name()`, `from_name()`, `topic_suffix()`, [`kind_of`]) and topic
//! names. It builds for native targets and for `wasm32-unknown-unknown` without `std`
//! formatting machinery being required by callers.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

/// Generated protobuf types of package `sightline.v1`.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/sightline.v1.rs"));
}

mod kind;
pub mod record;
#[cfg(feature = "serde")]
pub mod serde_hex;
mod topics;

pub use kind::kind_of;
#[cfg(feature = "std")]
pub use kind::kinds_json;
pub use topics::{TOPIC_SUFFIXES, TopicSuffixes, all_suffixes as all_topic_suffixes};
