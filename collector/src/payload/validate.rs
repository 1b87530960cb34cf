//! Per-event validation. A failing event is not an error of the request: it becomes a
//! `RejectedEvent` on the dead-letter topic with one of the stable reason codes below.

use std::collections::BTreeMap;

use sightline_proto::v1::{
    Ad, Batch, Element, Event, PrivacyMode, event::Kind, property::Value as PropertyValue,
};

use crate::config::LimitsConfig;

/// Stable reason codes (also the `reason` label of `events_rejected_total`).
pub mod reason {
    pub const MISSING_IDENTITY: &str = "missing_identity";
    pub const MISSING_EVENT_ID: &str = "missing_event_id";
    pub const INVALID_EVENT_ID: &str = "invalid_event_id";
    pub const MISSING_PAYLOAD: &str = "missing_payload";
    pub const TIMESTAMP_OUT_OF_WINDOW: &str = "timestamp_out_of_window";
    pub const STRING_TOO_LONG: &str = "string_too_long";
    pub const TOO_MANY_PROPERTIES: &str = "too_many_properties";
    /// JSON import API: `type` missing or not one of track, page, screen, identify,
    /// group, alias.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// JSON import API: a known field with the wrong JSON type or an unparsable value
    /// (e.g. `properties` not an object, `timestamp` not ISO 8601, `event` missing).
    pub const INVALID_FIELD: &str = "invalid_field";
    /// A behavioural event (click, scroll, hover, search, custom) in a RESTRICTED batch
    /// (a minor's, issue 18): refused, dead-lettered without its content.
    pub const PRIVACY_RESTRICTED: &str = "privacy_restricted";
    pub const ALL: &[&str] = &[
        MISSING_IDENTITY,
        MISSING_EVENT_ID,
        INVALID_EVENT_ID,
        MISSING_PAYLOAD,
        TIMESTAMP_OUT_OF_WINDOW,
        STRING_TOO_LONG,
        TOO_MANY_PROPERTIES,
        UNKNOWN_TYPE,
        INVALID_FIELD,
        PRIVACY_RESTRICTED,
    ];
}

/// Event ids are 16 random bytes.
pub const EVENT_ID_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: &'static str,
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

type Check = Result<(), Rejection>;

struct Checker<'a> {
    limits: &'a LimitsConfig,
}

impl Checker<'_> {
    fn len(&self, field: &str, value: &str, limit: usize) -> Check {
        if value.len() > limit {
            return Err(Rejection::new(
                reason::STRING_TOO_LONG,
                format!("{field} is {} bytes, limit {limit}", value.len()),
            ));
        }
        Ok(())
    }
    fn url(&self, field: &str, value: &str) -> Check {
        self.len(field, value, self.limits.max_url_len)
    }
    fn name(&self, field: &str, value: &str) -> Check {
        self.len(field, value, self.limits.max_name_len)
    }
    fn text(&self, field: &str, value: &str) -> Check {
        self.len(field, value, self.limits.max_string_len)
    }
    fn count(&self, field: &str, count: usize) -> Check {
        if count > self.limits.max_properties {
            return Err(Rejection::new(
                reason::TOO_MANY_PROPERTIES,
                format!(
                    "{field} has {count} entries, limit {}",
                    self.limits.max_properties
                ),
            ));
        }
        Ok(())
    }
    fn map(&self, field: &str, map: &BTreeMap<String, String>) -> Check {
        self.count(field, map.len())?;
        // Field names are formatted only for a failing entry: the check runs for every
        // event, the message almost never.
        for (key, value) in map {
            if key.len() > self.limits.max_name_len {
                self.name(&format!("{field} key"), key)?;
            }
            if value.len() > self.limits.max_string_len {
                self.text(&format!("{field}[{key}]"), value)?;
            }
        }
        Ok(())
    }
    fn element(&self, element: Option<&Element>) -> Check {
        let Some(e) = element else { return Ok(()) };
        self.len(
            "element.selector",
            &e.selector,
            self.limits.max_selector_len,
        )?;
        self.name("element.tag", &e.tag)?;
        self.name("element.id", &e.id)?;
        self.map("element.data", &e.data)?;
        self.url("element.href", &e.href)?;
        self.text("element.text", &e.text)
    }
    fn ad(&self, ad: Option<&Ad>) -> Check {
        let Some(ad) = ad else { return Ok(()) };
        self.name("ad.slot_id", &ad.slot_id)?;
        self.name("ad.creative_id", &ad.creative_id)?;
        self.name("ad.campaign_id", &ad.campaign_id)?;
        self.name("ad.placement_id", &ad.placement_id)
    }
}

/// Checks what every event of the batch shares (context, identity, experiments). When
/// this fails, every event of the batch is rejected with the same reason.
pub fn validate_batch(batch: &Batch, limits: &LimitsConfig) -> Check {
    let c = Checker { limits };
    c.name("sdk_version", &batch.sdk_version)?;
    if let Some(ctx) = &batch.context {
        c.url("context.url", &ctx.url)?;
        c.url("context.referrer", &ctx.referrer)?;
        c.name("context.locale", &ctx.locale)?;
    }
    let identity = batch.identity.as_ref();
    let anonymous = identity.map_or("", |i| i.anonymous_id.as_str());
    let user = identity.map_or("", |i| i.user_id.as_str());
    // COOKIELESS and RESTRICTED batches carry no id by design (the collector keys them
    // by the visitor id or page session, `crate::privacy`).
    let id_free = batch.privacy_mode == PrivacyMode::Cookieless as i32
        || batch.privacy_mode == PrivacyMode::Restricted as i32;
    if anonymous.is_empty() && user.is_empty() && !id_free {
        return Err(Rejection::new(
            reason::MISSING_IDENTITY,
            "identity has neither anonymous_id nor user_id",
        ));
    }
    if let Some(i) = identity {
        c.name("identity.anonymous_id", &i.anonymous_id)?;
        c.name("identity.user_id", &i.user_id)?;
        c.name("identity.session_id", &i.session_id)?;
        c.name("identity.page_session_id", &i.page_session_id)?;
        c.map("identity.traits", &i.traits)?;
    }
    c.map("experiments", &batch.experiments)
}

/// Checks one event's id, payload and strings (the time window is checked by the caller,
/// which knows the corrected time).
pub fn validate_event(event: &Event, limits: &LimitsConfig) -> Check {
    let c = Checker { limits };
    match event.event_id.len() {
        0 => {
            return Err(Rejection::new(
                reason::MISSING_EVENT_ID,
                "event_id is empty",
            ));
        }
        EVENT_ID_LEN => {}
        n => {
            return Err(Rejection::new(
                reason::INVALID_EVENT_ID,
                format!("event_id is {n} bytes, expected {EVENT_ID_LEN}"),
            ));
        }
    }
    let Some(kind) = &event.kind else {
        return Err(Rejection::new(
            reason::MISSING_PAYLOAD,
            "event has no kind payload",
        ));
    };
    match kind {
        Kind::PageView(pv) => {
            c.url("page_view.url", &pv.url)?;
            c.url("page_view.referrer", &pv.referrer)
        }
        Kind::Click(click) => c.element(click.element.as_ref()),
        Kind::Scroll(_) => Ok(()),
        Kind::Hover(hover) => {
            c.element(hover.element.as_ref())?;
            c.name("hover.ad_slot_id", &hover.ad_slot_id)
        }
        Kind::AdImpression(imp) => c.ad(imp.ad.as_ref()),
        Kind::AdVideo(video) => c.ad(video.ad.as_ref()),
        Kind::AdClick(click) => {
            c.ad(click.ad.as_ref())?;
            c.url("ad_click.href", &click.href)
        }
        Kind::Search(search) => c.text("search.query", &search.query),
        Kind::Custom(custom) => {
            c.name("custom.name", &custom.name)?;
            c.count("custom.properties", custom.properties.len())?;
            for property in &custom.properties {
                c.name("custom.property key", &property.key)?;
                if let Some(PropertyValue::StringValue(value)) = &property.value {
                    if value.len() > limits.max_string_len {
                        c.text(&format!("custom.properties[{}]", property.key), value)?;
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{Click, Custom, Identity, PageContext, Property};

    fn limits() -> LimitsConfig {
        LimitsConfig::default()
    }

    fn event(kind: Kind) -> Event {
        Event {
            event_id: vec![1; 16],
            kind: Some(kind),
            ..Default::default()
        }
    }

    #[test]
    fn ids_and_payload_are_required() {
        let mut e = event(Kind::Click(Click::default()));
        assert!(validate_event(&e, &limits()).is_ok());
        e.event_id.clear();
        assert_eq!(
            validate_event(&e, &limits()).unwrap_err().reason,
            reason::MISSING_EVENT_ID
        );
        e.event_id = vec![1; 15];
        assert_eq!(
            validate_event(&e, &limits()).unwrap_err().reason,
            reason::INVALID_EVENT_ID
        );
        e.event_id = vec![1; 16];
        e.kind = None;
        assert_eq!(
            validate_event(&e, &limits()).unwrap_err().reason,
            reason::MISSING_PAYLOAD
        );
    }

    #[test]
    fn string_limits_are_exact() {
        let name = |n: usize| {
            event(Kind::Custom(Custom {
                name: "x".repeat(n),
                properties: vec![],
            }))
        };
        assert!(validate_event(&name(128), &limits()).is_ok());
        let err = validate_event(&name(129), &limits()).unwrap_err();
        assert_eq!(err.reason, reason::STRING_TOO_LONG);
        assert!(err.detail.contains("129"), "{}", err.detail);
    }

    #[test]
    fn property_count_is_limited() {
        let props = |n: usize| {
            event(Kind::Custom(Custom {
                name: "n".into(),
                properties: (0..n)
                    .map(|i| Property {
                        key: format!("k{i}"),
                        value: Some(PropertyValue::IntValue(1)),
                    })
                    .collect(),
            }))
        };
        assert!(validate_event(&props(64), &limits()).is_ok());
        assert_eq!(
            validate_event(&props(65), &limits()).unwrap_err().reason,
            reason::TOO_MANY_PROPERTIES
        );
    }

    #[test]
    fn batch_needs_an_identity_and_bounded_url() {
        let mut batch = Batch::default();
        assert_eq!(
            validate_batch(&batch, &limits()).unwrap_err().reason,
            reason::MISSING_IDENTITY
        );
        batch.identity = Some(Identity {
            anonymous_id: "anon".into(),
            ..Default::default()
        });
        assert!(validate_batch(&batch, &limits()).is_ok());
        batch.context = Some(PageContext {
            url: "u".repeat(20_000),
            ..Default::default()
        });
        let err = validate_batch(&batch, &limits()).unwrap_err();
        assert_eq!(err.reason, reason::STRING_TOO_LONG);
        assert_eq!(err.detail, "context.url is 20000 bytes, limit 2048");
    }
}
