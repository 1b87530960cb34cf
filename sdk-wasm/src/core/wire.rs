//! A minimal protobuf writer for the `sightline.v1` messages the SDK sends.
//!
//! Why not prost here: the generated types bring BTreeMap, nested Option/Box drop glue and
//! prost's encoder into the download (about 18 KB of wasm). Events are instead written
//! straight to bytes when they are recorded. The contract stays `proto/sightline/v1/*.proto`:
//! the tests in `core::event` decode everything written here with `sightline-proto`.
//!
//! proto3 rules: scalar fields equal to their default are omitted; present sub-messages are
//! always written (even when empty).

use alloc::vec::Vec;

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

pub fn varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

fn key(buf: &mut Vec<u8>, field: u32, wire_type: u32) {
    varint(buf, u64::from((field << 3) | wire_type));
}

/// uint32 / uint64 / enum.
pub fn uint(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        key(buf, field, VARINT);
        varint(buf, value);
    }
}

/// int64 / int32 (two's complement varint).
pub fn int(buf: &mut Vec<u8>, field: u32, value: i64) {
    uint(buf, field, value as u64);
}

/// sint32 / sint64 (zigzag).
pub fn sint(buf: &mut Vec<u8>, field: u32, value: i64) {
    uint(buf, field, ((value << 1) ^ (value >> 63)) as u64);
}

pub fn boolean(buf: &mut Vec<u8>, field: u32, value: bool) {
    uint(buf, field, u64::from(value));
}

pub fn float(buf: &mut Vec<u8>, field: u32, value: f32) {
    if value != 0.0 {
        key(buf, field, FIXED32);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

pub fn double(buf: &mut Vec<u8>, field: u32, value: f64) {
    if value != 0.0 {
        key(buf, field, FIXED64);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// bytes / string; omitted when empty.
pub fn bytes(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    if !value.is_empty() {
        raw(buf, field, value);
    }
}

pub fn string(buf: &mut Vec<u8>, field: u32, value: &str) {
    bytes(buf, field, value.as_bytes());
}

/// A length-delimited field written even when empty (a present sub-message).
pub fn raw(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    key(buf, field, LEN);
    varint(buf, value.len() as u64);
    buf.extend_from_slice(value);
}

/// A sub-message built by `write`.
pub fn message(buf: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    write(&mut inner);
    raw(buf, field, &inner);
}

/// One entry of a `map<string, string>`.
pub fn map_entry(buf: &mut Vec<u8>, field: u32, name: &str, value: &str) {
    message(buf, field, |entry| {
        string(entry, 1, name);
        string(entry, 2, value);
    });
}

/// Bytes a length-delimited field with `len` payload bytes takes (for batch sizing).
pub fn len_field_size(field: u32, len: usize) -> usize {
    let mut head = Vec::new();
    key(&mut head, field, LEN);
    varint(&mut head, len as u64);
    head.len() + len
}
