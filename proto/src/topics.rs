use crate::v1::EventKind;

const TOPICS_TXT: &str = include_str!("../topics.txt");

/// Every topic suffix in `proto/topics.txt`, in file order. The same file drives topic
/// creation in `scripts/kafka.sh`, so the collector's defaults and the broker agree.
pub fn all_suffixes() -> impl Iterator<Item = &'static str> {
    TOPICS_TXT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Suffixes of the topics that are not one event kind's: dead letter and hot-user overflow.
pub const TOPIC_SUFFIXES: TopicSuffixes = TopicSuffixes {
    rejected: "rejected",
    overflow: "overflow",
};

/// Names of the special topics (see [`TOPIC_SUFFIXES`]).
pub struct TopicSuffixes {
    pub rejected: &'static str,
    pub overflow: &'static str,
}

/// Default topic suffix for an event kind, e.g. `clicks` for [`EventKind::Click`].
pub fn topic_suffix(kind: EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::Unspecified => return None,
        EventKind::PageView => "page_views",
        EventKind::Click => "clicks",
        EventKind::Scroll => "scrolls",
        EventKind::Hover => "hovers",
        EventKind::AdImpression => "ad_impressions",
        EventKind::AdClick => "ad_clicks",
        EventKind::Search => "searches",
        EventKind::Custom => "custom",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_routed_topic_is_created_by_the_kafka_script() {
        let created: alloc::vec::Vec<&str> = all_suffixes().collect();
        for kind in (1..=8).filter_map(|k| EventKind::try_from(k).ok()) {
            let suffix = topic_suffix(kind).expect("kinds 1..=8 are routed");
            assert!(
                created.contains(&suffix),
                "{suffix} missing from topics.txt"
            );
        }
        assert!(created.contains(&TOPIC_SUFFIXES.rejected));
        assert!(created.contains(&TOPIC_SUFFIXES.overflow));
        assert_eq!(
            EventKind::try_from(9).ok(),
            None,
            "a new kind needs a topic"
        );
    }
}
