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

/// Suffixes of the topics that are not one event kind's: every kind's events in one record
/// per batch (record layout v2, the default), dead letter and hot-user overflow.
pub const TOPIC_SUFFIXES: TopicSuffixes = TopicSuffixes {
    events: "events",
    rejected: "rejected",
    overflow: "overflow",
    ad_decisions: "ad_decisions",
};

/// Names of the special topics (see [`TOPIC_SUFFIXES`]).
pub struct TopicSuffixes {
    pub events: &'static str,
    pub rejected: &'static str,
    pub overflow: &'static str,
    /// sightline-decide's decision log: `AdDecision` records, one per decision.
    pub ad_decisions: &'static str,
}

impl EventKind {
    /// Default topic suffix of the kind's events, e.g. `clicks` for [`EventKind::Click`];
    /// `rejected` for `Unspecified` (no event is accepted without a kind). A new kind gets
    /// its line here and in `proto/topics.txt` (the tests check both).
    pub const fn topic_suffix(self) -> &'static str {
        match self {
            EventKind::Unspecified => TOPIC_SUFFIXES.rejected,
            EventKind::PageView => "page_views",
            EventKind::Click => "clicks",
            EventKind::Scroll => "scrolls",
            EventKind::Hover => "hovers",
            EventKind::AdImpression => "ad_impressions",
            EventKind::AdClick => "ad_clicks",
            EventKind::Search => "searches",
            EventKind::Custom => "custom",
            EventKind::AdVideo => "ad_videos",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_is_created_by_the_kafka_script_and_only_those() {
        let created: alloc::vec::Vec<&str> = all_suffixes().collect();
        let mut expected: alloc::vec::Vec<&str> =
            EventKind::ALL.iter().map(|k| k.topic_suffix()).collect();
        expected.extend([
            TOPIC_SUFFIXES.events,
            TOPIC_SUFFIXES.rejected,
            TOPIC_SUFFIXES.overflow,
            TOPIC_SUFFIXES.ad_decisions,
        ]);
        for suffix in &expected {
            assert!(created.contains(suffix), "{suffix} missing from topics.txt");
        }
        let mut unique = expected.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), expected.len(), "two kinds share a topic");
    }
}
