//! Everything that can stop the tail, with enough context to act on it.

#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("Kafka client: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(
        "topic {topic} not found on the broker (is `make kafka-up` running, with the same prefix?)"
    )]
    UnknownTopic { topic: String },
    #[error("topic {topic}: {detail}")]
    TopicMetadata { topic: String, detail: String },
    #[error("unknown event kind {kind:?}; expected one of: {known}")]
    UnknownKind { kind: String, known: String },
    #[error("cannot write JSON: {0}")]
    Json(serde_json::Error),
    #[error("cannot write to stdout: {0}")]
    Output(std::io::Error),
}
