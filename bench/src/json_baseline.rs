//! The baseline for bytes per event: the same events as a typical JSON tracker sends
//! them (Segment analytics.js `/v1/batch` shape, which PostHog and RudderStack mirror):
//! one object per event carrying its own `context` (page, screen, locale, library,
//! user agent), ids as UUID strings, times as ISO 8601, the payload as `properties`.
//! Nothing is added that Sightline does not send, except what that shape repeats per
//! event; the page title is left out on both sides.

use std::{collections::BTreeMap, io::Write};

use flate2::{Compression, write::GzEncoder};
use serde_json::{Map, Value, json};
use sightline_proto::{
    kind_of,
    v1::{Batch, Event, event::Kind},
};

/// `2026-11-28T18:06:14.123Z` for milliseconds since the Unix epoch.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// 16 bytes as a UUID string (how JSON trackers send message ids).
pub fn uuid(bytes: &[u8]) -> String {
    let hex = sightline_proto::serde_hex::to_hex(bytes);
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn event_name(event: &Event) -> String {
    let name = match &event.kind {
        Some(Kind::PageView(_)) => "Page Viewed",
        Some(Kind::Click(_)) => "Element Clicked",
        Some(Kind::Scroll(_)) => "Scroll Depth Reached",
        Some(Kind::Hover(_)) => "Element Hovered",
        Some(Kind::AdImpression(_)) => "Ad Impression",
        Some(Kind::AdClick(_)) => "Ad Clicked",
        Some(Kind::Search(_)) => "Products Searched",
        Some(Kind::AdVideo(_)) => "Video Ad Progress",
        // Custom events keep their own name, as `track(name)` does in those trackers.
        Some(Kind::Custom(c)) => return c.name.clone(),
        None => "Unknown",
    };
    name.to_string()
}

fn properties(event: &Event) -> Value {
    let payload = match &event.kind {
        Some(Kind::PageView(p)) => serde_json::to_value(p),
        Some(Kind::Click(p)) => serde_json::to_value(p),
        Some(Kind::Scroll(p)) => serde_json::to_value(p),
        Some(Kind::Hover(p)) => serde_json::to_value(p),
        Some(Kind::AdImpression(p)) => serde_json::to_value(p),
        Some(Kind::AdClick(p)) => serde_json::to_value(p),
        Some(Kind::Search(p)) => serde_json::to_value(p),
        Some(Kind::AdVideo(p)) => serde_json::to_value(p),
        Some(Kind::Custom(p)) => Ok(json!({
            "name": p.name,
            "properties": p.properties.iter().map(|prop| (prop.key.clone(), serde_json::to_value(&prop.value).unwrap_or(Value::Null))).collect::<BTreeMap<_, _>>(),
        })),
        None => Ok(Value::Null),
    };
    let mut map = match payload {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    map.insert("seq".into(), json!(event.seq));
    map.insert("page_view_id".into(), json!(uuid(&event.page_view_id)));
    Value::Object(map)
}

/// Drops empty strings, empty objects and arrays, and nulls, as JSON trackers leave
/// unset fields out; numbers and booleans stay (0 and false carry meaning).
fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(prune).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(map) => {
            let map: Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other),
    }
}

/// The batch as a JSON tracker's request body.
pub fn segment_batch(batch: &Batch, user_agent: &str) -> Value {
    let context = batch.context.clone().unwrap_or_default();
    let identity = batch.identity.clone().unwrap_or_default();
    let path = context
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let events: Vec<Value> = batch
        .events
        .iter()
        .map(|event| {
            let is_page = matches!(kind_of(event.kind.as_ref()), sightline_proto::v1::EventKind::PageView);
            json!({
                "type": if is_page { "page" } else { "track" },
                "event": event_name(event),
                "messageId": uuid(&event.event_id),
                "anonymousId": identity.anonymous_id,
                "userId": identity.user_id,
                "timestamp": iso8601(event.client_ts_ms),
                "context": {
                    "library": { "name": "analytics.js", "version": batch.sdk_version },
                    "page": { "url": context.url, "path": path, "referrer": context.referrer },
                    "screen": {
                        "width": context.screen_width, "height": context.screen_height,
                        "innerWidth": context.viewport_width, "innerHeight": context.viewport_height,
                        "density": context.device_pixel_ratio,
                    },
                    "locale": context.locale,
                    "timezoneOffset": context.timezone_offset_min,
                    "userAgent": user_agent,
                    "sessionId": identity.session_id,
                    "pageSessionId": identity.page_session_id,
                    "traits": identity.traits,
                    "experiments": batch.experiments,
                },
                "properties": properties(event),
            })
        })
        .filter_map(prune)
        .collect();
    json!({ "batch": events, "sentAt": iso8601(batch.sent_at_ms), "writeKey": batch.site_key })
}

/// Gzip (level 6, as a browser's CompressionStream or a server would) size of `bytes`.
pub fn gzip_len(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    if encoder.write_all(bytes).is_err() {
        return bytes.len();
    }
    encoder.finish().map_or(bytes.len(), |v| v.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{BatchGenerator, WorkloadConfig};

    #[test]
    fn iso_dates_are_right() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_795_889_174_123), "2026-11-28T18:06:14.123Z");
    }

    #[test]
    fn empty_fields_are_left_out_but_zeros_stay() {
        let pruned =
            prune(json!({"a": "", "b": 0, "c": {"d": null}, "e": [], "f": false, "g": "x"}));
        assert_eq!(pruned, Some(json!({"b": 0, "f": false, "g": "x"})));
    }

    #[test]
    fn one_json_object_per_event_with_its_context() {
        let mut generator = BatchGenerator::new(WorkloadConfig::default());
        let batch = generator.batch(1_795_889_174_123);
        let value = segment_batch(&batch, "Mozilla/5.0");
        let events = value["batch"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(events, batch.events.len());
        assert_eq!(value["batch"][0]["type"], "page");
        assert_eq!(value["batch"][0]["context"]["userAgent"], "Mozilla/5.0");
        assert_eq!(
            value["batch"][0]["messageId"].as_str().map(str::len),
            Some(36)
        );
        let text = serde_json::to_vec(&value).unwrap_or_default();
        assert!(gzip_len(&text) < text.len());
    }
}
