//! A message's 16-byte `event_id`, stable across retries so consumers deduplicate
//! imported events like browser ones: a UUID `messageId` (the libraries' default) is its
//! own 16 bytes; any other `messageId` is hashed (SHA-256, first 16 bytes, domain
//! separated); a message without one is identified by its content (a retry sends the
//! same JSON, so the same id).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The event id for a message with `message_id` (if any) and content `message`.
pub fn event_id(message_id: Option<&str>, message: &Value) -> Vec<u8> {
    match message_id {
        Some(id) => parse_uuid(id).map_or_else(
            || hashed(b"sightline.import.message_id\0", id.as_bytes()),
            |b| b.to_vec(),
        ),
        None => {
            // serde_json writes object keys in one order for equal values: the content
            // hash of a message does not depend on how it was indented.
            let content = serde_json::to_vec(message).unwrap_or_default();
            hashed(b"sightline.import.content\0", &content)
        }
    }
}

fn hashed(domain: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(domain);
    hasher.update(bytes);
    hasher.finalize()[..16].to_vec()
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` or 32 hex digits, any case.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = match text.len() {
        36 => {
            let b = text.as_bytes();
            if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
                return None;
            }
            b.iter().copied().filter(|&c| c != b'-').collect()
        }
        32 => text.as_bytes().to_vec(),
        _ => return None,
    };
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_their_bytes_other_ids_a_stable_hash() {
        let id = event_id(Some("01234567-89ab-cdef-0123-456789ABCDEF"), &Value::Null);
        assert_eq!(
            id,
            (0..16)
                .map(|i| [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef][i % 8])
                .collect::<Vec<u8>>()
        );
        assert_eq!(
            event_id(Some("0123456789abcdef0123456789abcdef"), &Value::Null),
            id
        );
        let a = event_id(Some("node-next-1-abc"), &Value::Null);
        assert_eq!(a.len(), 16);
        assert_eq!(a, event_id(Some("node-next-1-abc"), &Value::Null));
        assert_ne!(a, event_id(Some("node-next-1-abd"), &Value::Null));
        // Not quite UUIDs: hashed, not misread.
        assert_eq!(
            event_id(Some("0123456789abcdef0123456789abcdeg"), &Value::Null).len(),
            16
        );
        assert_eq!(
            event_id(Some("01234567+89ab-cdef-0123-456789abcdef"), &Value::Null).len(),
            16
        );
    }

    /// The golden vector of an imported screen (proto/testdata) carries this id.
    #[test]
    fn the_golden_vectors_id_is_this_hash() {
        use prost::Message;
        let bytes = include_bytes!("../../../proto/testdata/collected_import_screen.binpb");
        let collected = sightline_proto::v1::CollectedEvent::decode(&bytes[..]).unwrap();
        let event = collected.event.unwrap();
        assert_eq!(
            event_id(Some(&collected.message_id), &Value::Null),
            event.event_id
        );
    }

    #[test]
    fn without_an_id_equal_content_gives_equal_ids() {
        let a: Value =
            serde_json::from_str(r#"{"type":"track","event":"x","userId":"u"}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{ "userId":"u", "event":"x", "type":"track" }"#).unwrap();
        let c: Value =
            serde_json::from_str(r#"{"type":"track","event":"y","userId":"u"}"#).unwrap();
        assert_eq!(event_id(None, &a), event_id(None, &b));
        assert_ne!(event_id(None, &a), event_id(None, &c));
    }
}
