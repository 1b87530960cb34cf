//! Lower-case hex for ids and for storing batch bodies in string-only storage.

use alloc::{string::String, vec::Vec};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        super::text::push_ascii(&mut out, DIGITS[usize::from(byte >> 4)]);
        super::text::push_ascii(&mut out, DIGITS[usize::from(byte & 0x0f)]);
    }
    out
}

/// Bytes of a hex string; `None` unless it is an even number of lower- or upper-case hex digits.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let raw = text.as_bytes();
    if raw.len() % 2 != 0 {
        return None;
    }
    // A plain loop: `Option` collected from an iterator costs ~1 KB of wasm (shunt adapter).
    let mut out = Vec::with_capacity(raw.len() / 2);
    let mut high = 0u8;
    for (index, &c) in raw.iter().enumerate() {
        let nibble = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        if index % 2 == 0 {
            high = nibble << 4;
        } else {
            out.push(high | nibble);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let bytes = [0u8, 1, 0x7f, 0xab, 0xff];
        assert_eq!(encode(&bytes), "00017fabff");
        assert_eq!(decode("00017fabff").as_deref(), Some(&bytes[..]));
        assert_eq!(decode("00017FABFF").as_deref(), Some(&bytes[..]));
        assert_eq!(decode("0g"), None);
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("").as_deref(), Some(&[][..]));
    }
}
