//! What can go wrong, each with a message an operator can act on.

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("Kafka ({brokers}): {detail}")]
    Kafka { brokers: String, detail: String },
    #[error(
        "topic {topic} exists with cleanup.policy={policy}; erasure requests need a compacted \
         topic (cleanup.policy=compact) so the latest request per person is kept"
    )]
    NotCompacted { topic: String, policy: String },
}
