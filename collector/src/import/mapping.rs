//! One Segment-spec message → a `Batch` of one `Event` (so the browser path's
//! validation, clock-skew correction and routing apply unchanged) plus the import's own
//! `CollectedEvent` fields. The mapping, documented in proto/README.md:
//!
//! | `type` | `Event.kind` |
//! |---|---|
//! | `track` | `Custom{name: event, properties}` |
//! | `page` | `PageView{url, referrer, name, navigation: MANUAL}` |
//! | `screen` | `PageView{name, screen: true}` |
//! | `identify` | `Custom{name: "$identify", properties: traits}`; traits also in `Identity.traits` |
//! | `group` | `Custom{name: "$group", properties: group_id + traits.*}` |
//! | `alias` | `Custom{name: "$alias", properties: previous_id}` |
//!
//! A message that cannot be mapped is a [`Rejection`] (dead letter), never a panic.

use std::net::IpAddr;

use serde_json::{Map, Value};
use sightline_proto::v1::{
    AppInfo, Batch, ConsentPurposes, Custom, Event, Identity, Navigation, PageContext, PageView,
    PrivacyMode, Property, event::Kind, property::Value as PropertyValue,
};

use super::{
    MessageType,
    context::{self, DeclaredDevice},
    event_id::event_id,
    properties, timestamp,
};
use crate::{
    config::LimitsConfig,
    payload::validate::{Rejection, reason},
};

/// Reserved `Custom.name`s of the types that are not interactions.
pub const NAME_IDENTIFY: &str = "$identify";
pub const NAME_GROUP: &str = "$group";
pub const NAME_ALIAS: &str = "$alias";

/// What the request knows for every message.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    pub site: &'a str,
    pub received_at_ms: i64,
    /// The batch's `sentAt`.
    pub sent_at: Option<&'a Value>,
    /// The batch's `context` (a message's own keys win).
    pub context: Option<&'a Map<String, Value>>,
    /// The path's type, for single-message paths.
    pub default_type: Option<MessageType>,
    /// Whether `context.ip` is believed (`trust_client_ip`).
    pub trust_client_ip: bool,
}

/// A mapped message.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The message as a browser batch of one event.
    pub batch: Batch,
    pub library_name: String,
    pub library_version: String,
    /// `messageId` as sent (cut to `max_name_len`), empty when absent.
    pub message_id: String,
    /// `context.userAgent`, which beats the request's `User-Agent` (the library's).
    pub user_agent: Option<String>,
    /// `context.ip` of a trusted source.
    pub client_ip: Option<IpAddr>,
    /// `context.device.type` / `context.os`, laid over the agent's parse at the edge.
    pub declared_device: DeclaredDevice,
    /// `context.app` (`CollectedEvent.app`).
    pub app: Option<AppInfo>,
}

/// A message that goes to the dead letter, with what could be read of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmapped {
    pub rejection: Rejection,
    pub identity: Option<Identity>,
    pub message_id: String,
    pub event: Option<Event>,
}

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::new(reason::INVALID_FIELD, detail)
}

/// An id field: a string, or a number (the libraries accept both), else invalid.
fn id_field(message: &Map<String, Value>, name: &str) -> Result<String, Rejection> {
    match message.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(invalid(format!("{name} is neither a string nor a number"))),
    }
}

fn object<'a>(
    message: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, Rejection> {
    match message.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(invalid(format!("{name} is not an object"))),
    }
}

fn string<'a>(object: Option<&'a Map<String, Value>>, name: &str) -> Result<&'a str, Rejection> {
    match object.and_then(|o| o.get(name)) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(format!("{name} is not a string"))),
    }
}

fn time_ms(value: Option<&Value>, name: &str) -> Result<Option<i64>, Rejection> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => timestamp::parse_ms(s).map(Some).ok_or_else(|| {
            invalid(format!(
                "{name} {:?} is not an ISO 8601 timestamp",
                cut(s, 64)
            ))
        }),
        Some(_) => Err(invalid(format!("{name} is not an ISO 8601 string"))),
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Maps one element of a request (`original`, as decoded).
pub fn map(
    original: &Value,
    request: &RequestContext<'_>,
    limits: &LimitsConfig,
) -> Result<Mapped, Box<Unmapped>> {
    let Value::Object(message) = original else {
        return Err(Box::new(Unmapped {
            rejection: invalid("the message is not a JSON object"),
            identity: None,
            message_id: String::new(),
            event: None,
        }));
    };
    let message_id = match message.get("messageId") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    let shown_id = message_id
        .map(|id| cut(id, limits.max_name_len))
        .unwrap_or_default();
    let identity = identity(message);
    let mut event = Event {
        event_id: event_id(message_id, original),
        ..Default::default()
    };
    let reject = |rejection: Rejection, event: Option<Event>| {
        Box::new(Unmapped {
            rejection,
            identity: identity.as_ref().ok().cloned(),
            message_id: shown_id.clone(),
            event,
        })
    };
    let identity = match &identity {
        Ok(identity) => identity.clone(),
        Err(rejection) => return Err(reject(rejection.clone(), Some(event))),
    };
    let message_type = match message.get("type") {
        Some(Value::String(name)) => MessageType::parse(name).ok_or_else(|| {
            Rejection::new(
                reason::UNKNOWN_TYPE,
                format!("type {:?} is not a Segment message type", cut(name, 32)),
            )
        }),
        None | Some(Value::Null) => request
            .default_type
            .ok_or_else(|| Rejection::new(reason::UNKNOWN_TYPE, "the message has no type")),
        Some(_) => Err(Rejection::new(reason::UNKNOWN_TYPE, "type is not a string")),
    };
    let message_type = message_type.map_err(|r| reject(r, Some(event.clone())))?;
    let body = (|| -> Result<Mapped, Rejection> {
        let own_context = object(message, "context")?;
        let context = merged_context(request.context, own_context);
        let context = context.as_ref();
        let sent_at = time_ms(message.get("sentAt").or(request.sent_at), "sentAt")?;
        let timestamp = time_ms(
            message
                .get("timestamp")
                .or_else(|| message.get("originalTimestamp")),
            "timestamp",
        )?;
        let sent_at_ms = sent_at.unwrap_or(0);
        // Without a timestamp the event happened when it was sent (or received).
        event.client_ts_ms = timestamp.or(sent_at).unwrap_or(request.received_at_ms);
        event.kind = Some(kind(message_type, message, limits)?);
        let page = context
            .and_then(|c| c.get("page"))
            .and_then(Value::as_object);
        let page_context = PageContext {
            url: context::with_campaign(string(page, "url")?, context, limits.max_url_len),
            referrer: string(page, "referrer")?.to_owned(),
            locale: string(context, "locale")?.to_owned(),
            screen_width: dimension(context, "screen", "width"),
            screen_height: dimension(context, "screen", "height"),
            device_pixel_ratio: context::pixel_ratio(context),
            timezone_offset_min: context::timezone_offset_min(context).unwrap_or(0),
            ..Default::default()
        };
        if let Some(Kind::PageView(view)) = &mut event.kind {
            if view.url.is_empty() && !view.screen {
                view.url.clone_from(&page_context.url);
            }
            if view.referrer.is_empty() && !view.screen {
                view.referrer.clone_from(&page_context.referrer);
            }
        }
        let library = context
            .and_then(|c| c.get("library"))
            .and_then(Value::as_object);
        let user_agent = string(context, "userAgent")?;
        let client_ip = if request.trust_client_ip {
            string(context, "ip")?.trim().parse::<IpAddr>().ok()
        } else {
            None
        };
        let (privacy_mode, consent) = privacy(context)?;
        let mut identity = identity.clone();
        if let Some(traits) = context
            .and_then(|c| c.get("traits"))
            .and_then(Value::as_object)
        {
            identity.traits = properties::flatten_strings(traits, limits.max_properties);
        }
        if message_type == MessageType::Identify {
            if let Some(traits) = object(message, "traits")? {
                identity
                    .traits
                    .extend(properties::flatten_strings(traits, limits.max_properties));
            }
        }
        Ok(Mapped {
            batch: Batch {
                site_key: request.site.to_owned(),
                sent_at_ms,
                context: (page_context != PageContext::default()).then_some(page_context),
                identity: Some(identity),
                events: vec![event.clone()],
                privacy_mode: privacy_mode as i32,
                consent,
                ..Default::default()
            },
            library_name: cut(string(library, "name")?, limits.max_name_len),
            library_version: cut(string(library, "version")?, limits.max_name_len),
            message_id: shown_id.clone(),
            user_agent: (!user_agent.is_empty())
                .then(|| cut(user_agent, limits.max_user_agent_len)),
            client_ip,
            declared_device: context::declared_device(context),
            app: context::app(context, limits.max_name_len),
        })
    })();
    body.map_err(|rejection| reject(rejection, Some(event.clone())))
}

/// `context.privacy` (Sightline's extension, docs/privacy.md): `{"mode": "persistent" |
/// "cookieless" | "restricted", "minor": true}`. Without it an imported message is
/// PERSISTENT: a backend sending a user id has its own lawful basis for it. The collector
/// enforces the mode exactly as for browser batches (`crate::privacy`).
fn privacy(
    context: Option<&Map<String, Value>>,
) -> Result<(PrivacyMode, Option<ConsentPurposes>), Rejection> {
    let Some(privacy) = context.map(|c| object(c, "privacy")).transpose()?.flatten() else {
        return Ok((PrivacyMode::Unspecified, None));
    };
    let mode = match string(Some(privacy), "mode")? {
        "" => PrivacyMode::Unspecified,
        "persistent" => PrivacyMode::Persistent,
        "cookieless" => PrivacyMode::Cookieless,
        "restricted" => PrivacyMode::Restricted,
        other => {
            return Err(invalid(format!(
                "context.privacy.mode {:?} is not persistent, cookieless or restricted",
                cut(other, 32)
            )));
        }
    };
    let minor = match privacy.get("minor") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("context.privacy.minor is not a boolean".to_owned())),
    };
    let consent = minor.then(|| ConsentPurposes {
        minor,
        ..Default::default()
    });
    Ok((mode, consent))
}

/// `userId` / `anonymousId` (alias: `userId`), as the record's identity.
fn identity(message: &Map<String, Value>) -> Result<Identity, Rejection> {
    Ok(Identity {
        user_id: id_field(message, "userId")?,
        anonymous_id: id_field(message, "anonymousId")?,
        ..Default::default()
    })
}

/// The batch's context under the message's own (message keys win).
fn merged_context(
    batch: Option<&Map<String, Value>>,
    own: Option<&Map<String, Value>>,
) -> Option<Map<String, Value>> {
    match (batch, own) {
        (None, None) => None,
        (Some(c), None) | (None, Some(c)) => Some(c.clone()),
        (Some(batch), Some(own)) => {
            let mut merged = batch.clone();
            merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
            Some(merged)
        }
    }
}

fn dimension(context: Option<&Map<String, Value>>, object: &str, name: &str) -> u32 {
    context
        .and_then(|c| c.get(object))
        .and_then(|o| o.get(name))
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

fn custom(name: &str, properties: Vec<Property>) -> Kind {
    Kind::Custom(Custom {
        name: name.to_owned(),
        properties,
    })
}

fn string_property(key: &str, value: String) -> Property {
    Property {
        key: key.to_owned(),
        value: Some(PropertyValue::StringValue(value)),
    }
}

/// The event payload of a message of `message_type`.
fn kind(
    message_type: MessageType,
    message: &Map<String, Value>,
    limits: &LimitsConfig,
) -> Result<Kind, Rejection> {
    let max = limits.max_properties;
    let props = object(message, "properties")?;
    let flat =
        |o: Option<&Map<String, Value>>| o.map(|o| properties::flatten(o, max)).unwrap_or_default();
    Ok(match message_type {
        MessageType::Track => {
            let name = match message.get("event") {
                Some(Value::String(name)) if !name.is_empty() => name,
                _ => {
                    return Err(invalid(
                        "a track message needs an `event` name (a non-empty string)",
                    ));
                }
            };
            custom(name, flat(props))
        }
        MessageType::Page | MessageType::Screen => {
            let name = match message.get("name") {
                Some(Value::String(name)) => name.clone(),
                None | Some(Value::Null) => string(props, "name")?.to_owned(),
                Some(_) => return Err(invalid("name is not a string")),
            };
            let screen = message_type == MessageType::Screen;
            Kind::PageView(PageView {
                url: if screen {
                    String::new()
                } else {
                    string(props, "url")?.to_owned()
                },
                referrer: if screen {
                    String::new()
                } else {
                    string(props, "referrer")?.to_owned()
                },
                navigation: Navigation::Manual as i32,
                name,
                screen,
                ..Default::default()
            })
        }
        MessageType::Identify => custom(NAME_IDENTIFY, flat(object(message, "traits")?)),
        MessageType::Group => {
            let group_id = id_field(message, "groupId")?;
            if group_id.is_empty() {
                return Err(invalid("a group message needs a groupId"));
            }
            let mut properties = vec![string_property("group_id", group_id)];
            if let Some(traits) = object(message, "traits")? {
                let mut nested = Map::new();
                nested.insert("traits".to_owned(), Value::Object(traits.clone()));
                properties.extend(properties::flatten(&nested, max));
            }
            custom(NAME_GROUP, properties)
        }
        MessageType::Alias => {
            let previous_id = id_field(message, "previousId")?;
            if previous_id.is_empty() {
                return Err(invalid("an alias message needs a previousId"));
            }
            custom(
                NAME_ALIAS,
                vec![string_property("previous_id", previous_id)],
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_292_000_000; // 2026-12-03T10:00:00Z

    fn request() -> RequestContext<'static> {
        RequestContext {
            site: "demo",
            received_at_ms: NOW,
            sent_at: None,
            context: None,
            default_type: None,
            trust_client_ip: false,
        }
    }

    fn map_text(text: &str, request: &RequestContext<'_>) -> Result<Mapped, Box<Unmapped>> {
        map(
            &serde_json::from_str(text).unwrap(),
            request,
            &LimitsConfig::default(),
        )
    }

    fn event(mapped: &Mapped) -> &Event {
        &mapped.batch.events[0]
    }

    #[test]
    fn context_privacy_sets_the_mode_and_the_minor_flag() {
        let mapped = map_text(r#"{"type":"page","userId":"u-1"}"#, &request()).unwrap();
        assert_eq!(mapped.batch.privacy_mode, PrivacyMode::Unspecified as i32);
        assert_eq!(mapped.batch.consent, None);
        let mapped = map_text(
            r#"{"type":"page","userId":"u-1","context":{"privacy":{"mode":"cookieless"}}}"#,
            &request(),
        )
        .unwrap();
        assert_eq!(mapped.batch.privacy_mode, PrivacyMode::Cookieless as i32);
        let mapped = map_text(
            r#"{"type":"page","userId":"u-1","context":{"privacy":{"minor":true}}}"#,
            &request(),
        )
        .unwrap();
        assert!(mapped.batch.consent.is_some_and(|c| c.minor));
        for bad in [
            r#"{"type":"page","userId":"u-1","context":{"privacy":{"mode":"stealth"}}}"#,
            r#"{"type":"page","userId":"u-1","context":{"privacy":{"minor":"yes"}}}"#,
            r#"{"type":"page","userId":"u-1","context":{"privacy":"restricted"}}"#,
        ] {
            let unmapped = map_text(bad, &request()).err().unwrap();
            assert_eq!(unmapped.rejection.reason, reason::INVALID_FIELD, "{bad}");
        }
    }

    #[test]
    fn track_becomes_custom_with_typed_properties_and_context() {
        let mapped = map_text(
            r#"{"type":"track","event":"Course Enrolled","userId":"u-1","anonymousId":"a-1",
                "messageId":"01234567-89ab-cdef-0123-456789abcdef","timestamp":"2026-12-03T09:59:58Z",
                "sentAt":"2026-12-03T10:00:00Z","properties":{"course_id":"c-7","revenue":49.5},
                "context":{"library":{"name":"analytics-node","version":"3.1.0"},"ip":"203.0.113.9",
                "userAgent":"Mozilla/5.0","page":{"url":"https://x.example/c/7"},"locale":"en-IN",
                "traits":{"college":"IIT","cohort":2027}}}"#,
            &request(),
        )
        .unwrap();
        assert_eq!(mapped.library_name, "analytics-node");
        assert_eq!(mapped.library_version, "3.1.0");
        assert_eq!(mapped.message_id, "01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(mapped.user_agent.as_deref(), Some("Mozilla/5.0"));
        assert_eq!(
            mapped.client_ip, None,
            "context.ip only from trusted sources"
        );
        let batch = &mapped.batch;
        assert_eq!(batch.sent_at_ms, NOW);
        let identity = batch.identity.as_ref().unwrap();
        assert_eq!(identity.user_id, "u-1");
        assert_eq!(identity.traits["cohort"], "2027");
        assert_eq!(batch.context.as_ref().unwrap().url, "https://x.example/c/7");
        assert_eq!(event(&mapped).client_ts_ms, NOW - 2000);
        assert_eq!(event(&mapped).event_id[..2], [0x01, 0x23]);
        let Some(Kind::Custom(custom)) = &event(&mapped).kind else {
            panic!()
        };
        assert_eq!(custom.name, "Course Enrolled");
        assert_eq!(custom.properties.len(), 2);
        let trusted = RequestContext {
            trust_client_ip: true,
            ..request()
        };
        let mapped = map_text(
            r#"{"type":"track","event":"e","userId":"u","context":{"ip":"203.0.113.9"}}"#,
            &trusted,
        )
        .unwrap();
        assert_eq!(mapped.client_ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn page_screen_identify_group_alias() {
        let kind_of = |text: &str| {
            event(&map_text(text, &request()).unwrap())
                .kind
                .clone()
                .unwrap()
        };
        let Kind::PageView(page) = kind_of(
            r#"{"type":"page","anonymousId":"a","name":"Course","properties":{"url":"https://x/c"}}"#,
        ) else {
            panic!()
        };
        assert_eq!(
            (page.url.as_str(), page.name.as_str(), page.screen),
            ("https://x/c", "Course", false)
        );
        let Kind::PageView(screen) =
            kind_of(r#"{"type":"screen","anonymousId":"a","name":"Home"}"#)
        else {
            panic!()
        };
        assert_eq!((screen.name.as_str(), screen.screen), ("Home", true));
        let Kind::Custom(identify) =
            kind_of(r#"{"type":"identify","userId":"u","traits":{"college":"IIT"}}"#)
        else {
            panic!()
        };
        assert_eq!(
            (identify.name.as_str(), identify.properties[0].key.as_str()),
            (NAME_IDENTIFY, "college")
        );
        let Kind::Custom(group) =
            kind_of(r#"{"type":"group","userId":"u","groupId":42,"traits":{"name":"IIT"}}"#)
        else {
            panic!()
        };
        assert_eq!(group.name, NAME_GROUP);
        assert_eq!(
            group.properties[0],
            string_property("group_id", "42".into())
        );
        assert_eq!(group.properties[1].key, "traits.name");
        let Kind::Custom(alias) = kind_of(r#"{"type":"alias","userId":"u","previousId":"a"}"#)
        else {
            panic!()
        };
        assert_eq!(
            alias.properties,
            vec![string_property("previous_id", "a".into())]
        );
        let identified = map_text(
            r#"{"type":"identify","userId":"u","traits":{"college":"IIT"}}"#,
            &request(),
        )
        .unwrap();
        assert_eq!(identified.batch.identity.unwrap().traits["college"], "IIT");
    }

    #[test]
    fn single_message_paths_give_the_type_and_batches_their_context() {
        let context: Map<String, Value> =
            serde_json::from_str(r#"{"locale":"en-IN","library":{"name":"b"}}"#).unwrap();
        let sent_at = Value::from("2026-12-03T10:00:05Z");
        let request = RequestContext {
            default_type: Some(MessageType::Track),
            context: Some(&context),
            sent_at: Some(&sent_at),
            ..request()
        };
        let mapped = map_text(
            r#"{"event":"e","userId":"u","context":{"library":{"name":"m"}}}"#,
            &request,
        )
        .unwrap();
        assert_eq!(mapped.library_name, "m");
        assert_eq!(mapped.batch.context.unwrap().locale, "en-IN");
        assert_eq!(mapped.batch.sent_at_ms, NOW + 5000);
        assert_eq!(mapped.batch.events[0].client_ts_ms, NOW + 5000);
    }

    #[test]
    fn campaign_screen_timezone_device_and_os_from_the_context() {
        let mapped = map_text(
            r#"{"type":"page","anonymousId":"a","name":"Course",
                "context":{"page":{"url":"https://x.example/c/7?utm_source=ads"},
                "campaign":{"name":"fall","source":"mail","medium":"email"},
                "screen":{"width":390,"height":844,"density":3},"timezone":"+05:30",
                "device":{"type":"ios","model":"iPhone15,2"},"os":{"name":"iOS","version":"17.4"},
                "app":{"name":"CampusLearn","version":"2.3.0","build":"230"}}}"#,
            &request(),
        )
        .unwrap();
        let page = mapped.batch.context.as_ref().unwrap();
        // The URL's own utm_source wins; the others are added as the browser keeps them.
        let url = "https://x.example/c/7?utm_source=ads&utm_medium=email&utm_campaign=fall";
        assert_eq!(page.url, url);
        assert_eq!(
            (
                page.screen_width,
                page.screen_height,
                page.device_pixel_ratio
            ),
            (390, 844, 3.0)
        );
        assert_eq!(page.timezone_offset_min, 330);
        let Some(Kind::PageView(view)) = &event(&mapped).kind else {
            panic!()
        };
        assert_eq!(view.url, url, "the page view's URL is the page context's");
        assert_eq!(
            mapped.declared_device,
            DeclaredDevice {
                class: Some(sightline_proto::v1::DeviceClass::Mobile),
                os: Some(("iOS".into(), 17)),
            }
        );
        // A server event without a page: the campaign alone.
        let server = map_text(
            r#"{"type":"track","event":"Course Enrolled","userId":"u","context":{"campaign":{"source":"partner"}}}"#,
            &request(),
        )
        .unwrap();
        assert_eq!(server.batch.context.unwrap().url, "?utm_source=partner");
    }

    #[test]
    fn bad_messages_are_rejections_with_reasons() {
        let reason_of = |text: &str| map_text(text, &request()).unwrap_err().rejection.reason;
        assert_eq!(
            reason_of(r#"{"type":"purchase","userId":"u"}"#),
            reason::UNKNOWN_TYPE
        );
        assert_eq!(
            reason_of(r#"{"userId":"u","event":"e"}"#),
            reason::UNKNOWN_TYPE
        );
        assert_eq!(
            reason_of(r#"{"type":7,"userId":"u"}"#),
            reason::UNKNOWN_TYPE
        );
        assert_eq!(
            reason_of(r#"{"type":"track","userId":{"a":1},"event":"e"}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"track","userId":"u"}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"track","userId":"u","event":"e","properties":[1]}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"track","userId":"u","event":"e","timestamp":"yesterday"}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"track","userId":"u","event":"e","timestamp":12}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"track","userId":"u","event":"e","context":"x"}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"group","userId":"u"}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(
            reason_of(r#"{"type":"alias","userId":"u"}"#),
            reason::INVALID_FIELD
        );
        assert_eq!(reason_of("3"), reason::INVALID_FIELD);
        let unmapped = map_text(
            r#"{"type":"nope","userId":"u","messageId":"m-1"}"#,
            &request(),
        )
        .unwrap_err();
        assert_eq!(unmapped.identity.unwrap().user_id, "u");
        assert_eq!(unmapped.message_id, "m-1");
        assert_eq!(unmapped.event.unwrap().event_id.len(), 16);
    }
}
