//! Records from a processed batch: topic by event kind from the routing table (prefix +
//! suffix), key by user, rejects to the dead-letter topic, hot users to overflow.

use std::{collections::BTreeMap, sync::Arc};

use prost::Message;
use sightline_proto::v1::EventKind;

use crate::{
    config::RoutingConfig,
    payload::Processed,
    sinks::{Record, RecordHeaders},
};

pub const SCHEMA_COLLECTED: &str = "sightline.v1.CollectedEvent";
pub const SCHEMA_REJECTED: &str = "sightline.v1.RejectedEvent";

/// Every routed kind with its configuration name.
pub const KINDS: [(EventKind, &str); 8] = [
    (EventKind::PageView, "page_view"),
    (EventKind::Click, "click"),
    (EventKind::Scroll, "scroll"),
    (EventKind::Hover, "hover"),
    (EventKind::AdImpression, "ad_impression"),
    (EventKind::AdClick, "ad_click"),
    (EventKind::Search, "search"),
    (EventKind::Custom, "custom"),
];

/// `click` → `EventKind::Click` (names used in `[routing.topics]`, headers and metrics).
pub fn kind_from_name(name: &str) -> Option<EventKind> {
    KINDS.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
}

/// `EventKind::Click` → `click`; `unspecified` for kind 0.
pub fn kind_name(kind: EventKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("unspecified", |(_, n)| n)
}

/// The resolved routing table.
#[derive(Debug, Clone)]
pub struct Router {
    by_kind: BTreeMap<i32, Arc<str>>,
    rejected: Arc<str>,
    overflow: Arc<str>,
}

impl Router {
    pub fn new(config: &RoutingConfig) -> Self {
        let full = |suffix: &str| -> Arc<str> { format!("{}{suffix}", config.prefix).into() };
        let by_kind = KINDS
            .iter()
            .map(|(kind, name)| {
                let suffix = config
                    .topics
                    .get(*name)
                    .map(String::as_str)
                    .or_else(|| sightline_proto::topic_suffix(*kind))
                    .unwrap_or(name);
                (*kind as i32, full(suffix))
            })
            .collect();
        Self {
            by_kind,
            rejected: full(&config.rejected),
            overflow: full(&config.overflow),
        }
    }

    /// Topic of an event kind; unknown kinds (never accepted) go to the dead letter.
    pub fn topic(&self, kind: i32) -> &Arc<str> {
        self.by_kind.get(&kind).unwrap_or(&self.rejected)
    }

    pub fn rejected_topic(&self) -> &Arc<str> {
        &self.rejected
    }

    pub fn overflow_topic(&self) -> &Arc<str> {
        &self.overflow
    }

    /// Turns a processed batch into records. With `overflow`, accepted events go to the
    /// overflow topic without a key so one hot user cannot swamp one partition.
    pub fn route(&self, processed: &Processed, site: &str, overflow: bool) -> Vec<Record> {
        let mut records = Vec::with_capacity(processed.accepted.len() + processed.rejected.len());
        for event in &processed.accepted {
            let kind = EventKind::try_from(event.kind).unwrap_or(EventKind::Unspecified);
            let (topic, key) = if overflow {
                (self.overflow.clone(), None)
            } else {
                (self.topic(event.kind).clone(), Some(event.user_key.clone()))
            };
            records.push(Record {
                topic,
                key,
                payload: event.encode_to_vec(),
                headers: RecordHeaders {
                    schema: SCHEMA_COLLECTED.into(),
                    kind: kind_name(kind).into(),
                    site: site.to_owned(),
                },
            });
        }
        for rejected in &processed.rejected {
            let kind =
                sightline_proto::kind_of(rejected.event.as_ref().and_then(|e| e.kind.as_ref()));
            let key = rejected.identity.as_ref().map(|i| {
                if i.user_id.is_empty() {
                    i.anonymous_id.clone()
                } else {
                    i.user_id.clone()
                }
            });
            records.push(Record {
                topic: self.rejected.clone(),
                key: key.filter(|k| !k.is_empty()),
                payload: rejected.encode_to_vec(),
                headers: RecordHeaders {
                    schema: SCHEMA_REJECTED.into(),
                    kind: kind_name(kind).into(),
                    site: site.to_owned(),
                },
            });
        }
        records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{CollectedEvent, Identity, RejectedEvent};

    fn processed() -> Processed {
        Processed {
            accepted: vec![CollectedEvent {
                kind: EventKind::AdImpression as i32,
                user_key: "u1".into(),
                ..Default::default()
            }],
            rejected: vec![RejectedEvent {
                reason: "missing_event_id".into(),
                identity: Some(Identity {
                    anonymous_id: "a1".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            clock_skew_ms: None,
        }
    }

    #[test]
    fn default_table_uses_prefix_and_topics_txt() {
        let router = Router::new(&RoutingConfig::default());
        assert_eq!(
            &**router.topic(EventKind::PageView as i32),
            "sightline.page_views"
        );
        assert_eq!(
            &**router.topic(EventKind::AdClick as i32),
            "sightline.ad_clicks"
        );
        assert_eq!(&**router.rejected_topic(), "sightline.rejected");
        assert_eq!(&**router.overflow_topic(), "sightline.overflow");
        assert_eq!(&**router.topic(0), "sightline.rejected");
    }

    #[test]
    fn overrides_and_prefix() {
        let mut config = RoutingConfig {
            prefix: "staging.".into(),
            ..Default::default()
        };
        config.topics.insert("click".into(), "ui_clicks".into());
        let router = Router::new(&config);
        assert_eq!(
            &**router.topic(EventKind::Click as i32),
            "staging.ui_clicks"
        );
        assert_eq!(&**router.topic(EventKind::Scroll as i32), "staging.scrolls");
    }

    #[test]
    fn records_carry_keys_and_headers() {
        let router = Router::new(&RoutingConfig::default());
        let records = router.route(&processed(), "demo", false);
        assert_eq!(records.len(), 2);
        assert_eq!(&*records[0].topic, "sightline.ad_impressions");
        assert_eq!(records[0].key.as_deref(), Some("u1"));
        assert_eq!(records[0].headers.kind, "ad_impression");
        assert_eq!(records[0].headers.schema, SCHEMA_COLLECTED);
        assert_eq!(records[0].headers.site, "demo");
        assert_eq!(&*records[1].topic, "sightline.rejected");
        assert_eq!(records[1].key.as_deref(), Some("a1"));
        assert_eq!(records[1].headers.schema, SCHEMA_REJECTED);
        let decoded = CollectedEvent::decode(records[0].payload.as_slice()).unwrap();
        assert_eq!(decoded.user_key, "u1");
    }

    #[test]
    fn overflow_is_unkeyed() {
        let router = Router::new(&RoutingConfig::default());
        let records = router.route(&processed(), "demo", true);
        assert_eq!(&*records[0].topic, "sightline.overflow");
        assert_eq!(records[0].key, None);
        assert_eq!(&*records[1].topic, "sightline.rejected");
    }

    #[test]
    fn kind_names_round_trip() {
        for (kind, name) in KINDS {
            assert_eq!(kind_from_name(name), Some(kind));
            assert_eq!(kind_name(kind), name);
        }
        assert_eq!(kind_from_name("bogus"), None);
    }
}
