//! Bounded JSON decoding. Before serde_json sees a body, one linear scan measures its
//! nesting depth and refuses anything deeper than `import.max_depth`: serde_json's own
//! recursion limit (128) would also stop a stack overflow, but building and dropping
//! deep values is recursive too, and no message needs more than a few levels. Size is
//! bounded before (body and inflation limits), counts after (`max_events_per_batch`).

use serde_json::{Map, Value};

use super::Shape;
use crate::error::ApiError;

/// A decoded request: its messages, and what a batch says for all of them.
#[derive(Debug, Default)]
pub struct ImportRequest {
    /// Each element as sent (objects are checked per message, so one bad element is
    /// dead-lettered, not the request).
    pub messages: Vec<Value>,
    /// The batch's `sentAt`, used for messages without their own.
    pub sent_at: Option<Value>,
    /// The batch's `context`, merged under each message's own (message keys win).
    pub context: Option<Map<String, Value>>,
}

/// The deepest nesting of objects and arrays in `bytes` (outside strings), stopping as
/// soon as it exceeds `limit`.
pub fn depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Decodes a body of the given shape.
pub fn decode(bytes: &[u8], shape: Shape, max_depth: usize) -> Result<ImportRequest, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::EmptyBody);
    }
    if depth_exceeds(bytes, max_depth) {
        return Err(ApiError::JsonTooDeep { limit: max_depth });
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let Value::Object(mut top) = value else {
        return Err(ApiError::InvalidJson(
            "the body is not a JSON object".into(),
        ));
    };
    match shape {
        Shape::Single(_) => Ok(ImportRequest {
            messages: vec![Value::Object(top)],
            ..Default::default()
        }),
        Shape::Batch => {
            let messages = match top.remove("batch") {
                Some(Value::Array(messages)) => messages,
                Some(_) => return Err(ApiError::InvalidJson("`batch` is not an array".into())),
                None => return Err(ApiError::InvalidJson("no `batch` array".into())),
            };
            let context = match top.remove("context") {
                Some(Value::Object(context)) => Some(context),
                None | Some(Value::Null) => None,
                Some(_) => {
                    return Err(ApiError::InvalidJson(
                        "the batch's `context` is not an object".into(),
                    ));
                }
            };
            Ok(ImportRequest {
                messages,
                sent_at: top.remove("sentAt"),
                context,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::MessageType;

    #[test]
    fn depth_is_measured_outside_strings() {
        assert!(!depth_exceeds(br#"{"a":{"b":[1]}}"#, 3));
        assert!(depth_exceeds(br#"{"a":{"b":[1]}}"#, 2));
        assert!(!depth_exceeds(br#"{"a":"{{{{[[[[\"{{{{"}"#, 1));
        let deep = "[".repeat(1_000_000);
        assert!(depth_exceeds(deep.as_bytes(), 16));
    }

    #[test]
    fn batches_and_single_messages() {
        let body = br#"{"batch":[{"type":"track"},3],"sentAt":"2026-01-01T00:00:00Z","context":{"ip":"1.2.3.4"}}"#;
        let request = decode(body, Shape::Batch, 16).unwrap();
        assert_eq!(request.messages.len(), 2);
        assert_eq!(request.sent_at, Some(Value::from("2026-01-01T00:00:00Z")));
        assert_eq!(request.context.unwrap()["ip"], "1.2.3.4");
        let single = decode(br#"{"event":"x"}"#, Shape::Single(MessageType::Track), 16).unwrap();
        assert_eq!(single.messages.len(), 1);
    }

    #[test]
    fn refusals() {
        let code = |body: &[u8], shape| decode(body, shape, 16).unwrap_err().code();
        assert_eq!(code(b"  ", Shape::Batch), "empty_body");
        assert_eq!(code(b"{", Shape::Batch), "invalid_json");
        assert_eq!(code(b"[1]", Shape::Batch), "invalid_json");
        assert_eq!(code(br#"{"batch":{}}"#, Shape::Batch), "invalid_json");
        assert_eq!(code(br#"{"type":"track"}"#, Shape::Batch), "invalid_json");
        assert_eq!(
            code(b"\"x\"", Shape::Single(MessageType::Track)),
            "invalid_json"
        );
        assert_eq!(code(&[b'['; 17], Shape::Batch), "json_too_deep");
    }
}
