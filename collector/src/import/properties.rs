//! Segment `properties` / `traits` into Sightline's typed properties: strings, numbers
//! (integers as `int_value`, others as `number_value`) and booleans; nested objects
//! flattened with dotted keys (`{"course":{"id":7}}` → `course.id = 7`); arrays kept as
//! their JSON text (a string, bounded like any string); nulls dropped. The walk stops
//! one entry past `max_properties`, so a huge object costs no more than that; the
//! limits themselves (count, key and value lengths) are checked by `payload::validate`,
//! as for the SDK's custom events.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sightline_proto::v1::{Property, property::Value as PropertyValue};

/// Typed, flattened properties; at most `max + 1` entries.
pub fn flatten(object: &Map<String, Value>, max: usize) -> Vec<Property> {
    let mut out = Vec::new();
    walk(object, "", max, &mut |key, value| {
        let value = match value {
            Value::String(s) => PropertyValue::StringValue(s.clone()),
            Value::Bool(b) => PropertyValue::BoolValue(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PropertyValue::IntValue(i),
                None => PropertyValue::NumberValue(n.as_f64().unwrap_or(0.0)),
            },
            other => PropertyValue::StringValue(other.to_string()),
        };
        out.push(Property {
            key,
            value: Some(value),
        });
    });
    out
}

/// The same as strings (identity traits are a string map); at most `max + 1` entries.
pub fn flatten_strings(object: &Map<String, Value>, max: usize) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(object, "", max, &mut |key, value| {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.insert(key, text);
    });
    out
}

/// Calls `emit` for every leaf (scalar or array) under `object`, keys dotted from
/// `prefix`, until `max + 1` leaves were emitted. Recursion depth is bounded by the
/// request's (`import.max_depth`, checked before parsing).
fn walk(
    object: &Map<String, Value>,
    prefix: &str,
    max: usize,
    emit: &mut dyn FnMut(String, &Value),
) -> usize {
    let mut emitted = 0;
    for (name, value) in object {
        if emitted > max {
            break;
        }
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Value::Null => {}
            Value::Object(inner) => emitted += walk(inner, &key, max - emitted, emit),
            leaf => {
                emit(key, leaf);
                emitted += 1;
            }
        }
    }
    emitted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn typed_and_flattened() {
        let props = flatten(
            &object(
                r#"{"course_id":"c-7","revenue":49.5,"seats":2,"paid":true,"none":null,
                "plan":{"tier":"pro","price":{"inr":999}},"tags":["a","b"],"big":18446744073709551615}"#,
            ),
            64,
        );
        let got: BTreeMap<_, _> = props
            .into_iter()
            .map(|p| (p.key, p.value.unwrap()))
            .collect();
        assert_eq!(got["course_id"], PropertyValue::StringValue("c-7".into()));
        assert_eq!(got["revenue"], PropertyValue::NumberValue(49.5));
        assert_eq!(got["seats"], PropertyValue::IntValue(2));
        assert_eq!(got["paid"], PropertyValue::BoolValue(true));
        assert_eq!(got["plan.tier"], PropertyValue::StringValue("pro".into()));
        assert_eq!(got["plan.price.inr"], PropertyValue::IntValue(999));
        assert_eq!(
            got["tags"],
            PropertyValue::StringValue(r#"["a","b"]"#.into())
        );
        assert_eq!(
            got["big"],
            PropertyValue::NumberValue(18446744073709551615.0)
        );
        assert!(!got.contains_key("none"));
        assert_eq!(got.len(), 8);
    }

    #[test]
    fn the_walk_stops_one_past_the_limit() {
        let many: Map<String, Value> = (0..10_000)
            .map(|i| (format!("k{i}"), Value::from(i)))
            .collect();
        assert_eq!(flatten(&many, 64).len(), 65);
        let nested = object(r#"{"a":{"b":1,"c":2,"d":3},"e":{"f":4,"g":5}}"#);
        assert_eq!(flatten(&nested, 2).len(), 3);
        assert_eq!(flatten_strings(&nested, 64)["a.b"], "1");
    }
}
