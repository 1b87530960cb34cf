//! A minimal protobuf writer for the `sightline.v1` messages the SDK sends.
//!
//! Why not prost here: the generated types bring BTreeMap, nested Option/Box drop glue and
//! prost's encoder into the download (about 18 KB of wasm). Events are instead written
//! straight to bytes when they are recorded. The contract stays `proto/sightline/v1/*.proto`:
//!
//! - field numbers come from `core::schema`, generated from the descriptors by `build.rs`,
//!   and every field is typed by its protobuf type ([`Field`]): writing a `string` field with
//!   [`uint32`] does not compile;
//! - `tests/wire_contract.rs` builds every message with prost (every field set to a distinct
//!   value) and asserts the SDK's bytes are *equal* to `encode_to_vec()`, and fails when a
//!   field of the schema is neither written by the SDK nor listed as not the SDK's.
//!
//! proto3 rules: scalar fields equal to their default are omitted; present sub-messages are
//! always written (even when empty); oneof members are written even when they hold the
//! default. Fields are written in field-number order, as prost and protoc do.

use alloc::vec::Vec;
use core::marker::PhantomData;

use ty::*;

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// A field number of `sightline.v1`, typed by the field's protobuf type (a [`ty`] marker).
/// Only `core::schema`, generated from the descriptors, creates them.
pub struct Field<T>(u32, PhantomData<fn() -> T>);

impl<T> Clone for Field<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Field<T> {}

impl<T> Field<T> {
    pub(crate) const fn new(number: u32) -> Field<T> {
        Field(number, PhantomData)
    }

    pub const fn number(self) -> u32 {
        self.0
    }
}

/// Protobuf types of fields, as generated into `core::schema` by `build.rs`.
pub mod ty {
    use core::marker::PhantomData;

    pub enum Str {}
    pub enum Bytes {}
    pub enum U32 {}
    pub enum U64 {}
    pub enum I32 {}
    pub enum I64 {}
    pub enum S32 {}
    pub enum S64 {}
    pub enum Bool {}
    pub enum F32 {}
    pub enum F64 {}
    pub enum Enum {}
    /// A message field (singular, repeated or oneof member: each element is written alike).
    pub enum Msg {}
    /// `map<string, string>`.
    pub enum Map {}
    /// Types this writer has no function for (yet): a field of such a type cannot be written
    /// until one is added here and checked by `tests/wire_contract.rs`.
    pub enum OtherMap {}
    pub enum Fixed32 {}
    pub enum Fixed64 {}
    pub enum Unsupported {}
    /// A member of a `oneof` (or a proto3 `optional`): present even when it is the default.
    pub struct Oneof<T>(PhantomData<T>);
    /// A repeated scalar (packed).
    pub struct Repeated<T>(PhantomData<T>);
}

/// Key and value of a map entry: fixed by the protobuf encoding of maps, not by the schema.
const MAP_KEY: u32 = 1;
const MAP_VALUE: u32 = 2;

pub fn varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push((value as u8) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// Reads a varint at `at`: (value, bytes used). `None` when truncated or longer than 10 bytes.
pub fn read_varint(buf: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for used in 0..10 {
        let byte = *buf.get(at + used)?;
        value |= u64::from(byte & 0x7f) << (7 * used);
        if byte < 0x80 {
            return Some((value, used + 1));
        }
    }
    None
}

fn key(buf: &mut Vec<u8>, field: u32, wire_type: u32) {
    varint(buf, u64::from((field << 3) | wire_type));
}

/// Any varint field (uint32/uint64/int64/enum/bool) by number; omitted when 0.
fn uint(buf: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        key(buf, field, VARINT);
        varint(buf, value);
    }
}

pub fn uint32(buf: &mut Vec<u8>, field: Field<U32>, value: u32) {
    uint(buf, field.0, u64::from(value));
}

pub fn uint64(buf: &mut Vec<u8>, field: Field<U64>, value: u64) {
    uint(buf, field.0, value);
}

/// An enum value (a `core::schema` enum constant).
pub fn enumeration(buf: &mut Vec<u8>, field: Field<Enum>, value: u32) {
    uint(buf, field.0, u64::from(value));
}

/// int64 (two's complement varint).
pub fn int64(buf: &mut Vec<u8>, field: Field<I64>, value: i64) {
    uint(buf, field.0, value as u64);
}

/// sint32 (zigzag; computed on 64 bits, which gives the same varint for every i32).
pub fn sint32(buf: &mut Vec<u8>, field: Field<S32>, value: i32) {
    let value = i64::from(value);
    uint(buf, field.0, ((value << 1) ^ (value >> 63)) as u64);
}

pub fn boolean(buf: &mut Vec<u8>, field: Field<Bool>, value: bool) {
    uint(buf, field.0, u64::from(value));
}

pub fn float(buf: &mut Vec<u8>, field: Field<F32>, value: f32) {
    if value != 0.0 {
        key(buf, field.0, FIXED32);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// bytes; omitted when empty.
pub fn bytes(buf: &mut Vec<u8>, field: Field<Bytes>, value: &[u8]) {
    if !value.is_empty() {
        len_delimited(buf, field.0, value);
    }
}

/// string; omitted when empty.
pub fn string(buf: &mut Vec<u8>, field: Field<Str>, value: &str) {
    if !value.is_empty() {
        len_delimited(buf, field.0, value.as_bytes());
    }
}

/// A length-delimited field written even when empty.
fn len_delimited(buf: &mut Vec<u8>, field: u32, value: &[u8]) {
    key(buf, field, LEN);
    varint(buf, value.len() as u64);
    buf.extend_from_slice(value);
}

/// A present sub-message (or one element of a repeated one) built by `write`.
pub fn message(buf: &mut Vec<u8>, field: Field<Msg>, write: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    write(&mut inner);
    len_delimited(buf, field.0, &inner);
}

/// A sub-message already encoded (an event appended to a batch).
pub fn encoded_message(buf: &mut Vec<u8>, field: Field<Msg>, encoded: &[u8]) {
    len_delimited(buf, field.0, encoded);
}

/// One entry of a `map<string, string>` (callers keep entries sorted by key, as prost does).
pub fn map_entry(buf: &mut Vec<u8>, field: Field<Map>, name: &str, value: &str) {
    let mut entry = Vec::new();
    if !name.is_empty() {
        len_delimited(&mut entry, MAP_KEY, name.as_bytes());
    }
    if !value.is_empty() {
        len_delimited(&mut entry, MAP_VALUE, value.as_bytes());
    }
    len_delimited(buf, field.0, &entry);
}

pub fn oneof_string(buf: &mut Vec<u8>, field: Field<Oneof<Str>>, value: &str) {
    len_delimited(buf, field.0, value.as_bytes());
}

pub fn oneof_double(buf: &mut Vec<u8>, field: Field<Oneof<F64>>, value: f64) {
    key(buf, field.0, FIXED64);
    buf.extend_from_slice(&value.to_le_bytes());
}

pub fn oneof_int64(buf: &mut Vec<u8>, field: Field<Oneof<I64>>, value: i64) {
    key(buf, field.0, VARINT);
    varint(buf, value as u64);
}

pub fn oneof_bool(buf: &mut Vec<u8>, field: Field<Oneof<Bool>>, value: bool) {
    key(buf, field.0, VARINT);
    buf.push(u8::from(value));
}

/// Bytes a message field with `len` payload bytes takes (for batch sizing).
pub fn len_field_size(field: Field<Msg>, len: usize) -> usize {
    let mut head = Vec::new();
    key(&mut head, field.0, LEN);
    varint(&mut head, len as u64);
    head.len() + len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_back() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = alloc::vec![9];
            varint(&mut buf, value);
            assert_eq!(read_varint(&buf, 1), Some((value, buf.len() - 1)));
        }
        assert_eq!(read_varint(&[0x80, 0x80], 0), None, "truncated");
        assert_eq!(read_varint(&[0xff; 11], 0), None, "longer than 10 bytes");
    }
}
