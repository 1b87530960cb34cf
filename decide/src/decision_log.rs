//! The decision log: every decision as an `AdDecision` record on `<prefix>ad_decisions`,
//! keyed by the profiled visitor key (unkeyed otherwise), so the A/B analysis joins
//! impressions and clicks to the decision and policy that chose them.
//!
//! Fire and forget: a decision is answered whether or not its record reaches Kafka (ad
//! serving must not wait for the log), and every outcome is counted
//! (`sightline_decide_decision_log_records_total{outcome}`).

use std::{sync::Arc, time::Duration};

use prost::Message;
use rdkafka::{
    ClientConfig, ClientContext,
    error::{KafkaError, RDKafkaErrorCode},
    producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer},
};
use sightline_proto::v1::{
    AdDecision, ConsentPurposes, ConsentState, DecidedCreative, PrivacyMode,
};

use crate::{
    config::{ExperimentConfig, KafkaConfig},
    decision::Decision,
    metrics::{Metrics, OutcomeLabel},
    request::{Consent, DecideRequest, Mode},
};

struct Counting(Arc<Metrics>);

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let outcome = if result.is_ok() {
            "delivered"
        } else {
            "failed"
        };
        self.0
            .decision_log
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }
}

pub struct DecisionLog {
    producer: ThreadedProducer<Counting>,
    topic: String,
    experiment: String,
    decider_id: String,
    metrics: Arc<Metrics>,
}

impl DecisionLog {
    pub fn connect(
        config: &KafkaConfig,
        metrics: Arc<Metrics>,
        decider_id: String,
    ) -> Result<Self, KafkaError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("linger.ms", config.producer_linger_ms.to_string())
            .set(
                "queue.buffering.max.messages",
                config.producer_queue_max_messages.to_string(),
            )
            .set("enable.idempotence", "true")
            .set("compression.type", "lz4")
            .create_with_context(Counting(metrics.clone()))?;
        Ok(Self {
            producer,
            topic: config.topic(&config.decisions_topic),
            experiment: String::new(),
            decider_id,
            metrics,
        })
    }

    pub fn with_experiment(mut self, experiment: &ExperimentConfig) -> Self {
        self.experiment.clone_from(&experiment.name);
        self
    }

    /// Queues the decision's record; never blocks (a full queue drops it, counted).
    pub fn send(&self, request: &DecideRequest, decision: &Decision) {
        let record = to_record(request, decision, &self.experiment, &self.decider_id);
        let value = record.encode_to_vec();
        let key = decision.visitor_key.as_deref().unwrap_or("");
        let mut base = BaseRecord::<str, [u8]>::to(&self.topic).payload(&value);
        if !key.is_empty() {
            base = base.key(key);
        }
        if let Err((err, _)) = self.producer.send(base) {
            let outcome = match err {
                KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => "dropped",
                _ => "failed",
            };
            self.metrics
                .decision_log
                .get_or_create(&OutcomeLabel { outcome })
                .inc();
        }
    }

    /// Delivers what is queued, for at most `timeout` (at shutdown).
    pub fn flush(&self, timeout: Duration) {
        if let Err(err) = self.producer.flush(timeout) {
            tracing::warn!(%err, "decision log not fully delivered at shutdown");
        }
    }
}

/// The `AdDecision` of a decision (pure: the golden vector and tests use it).
pub fn to_record(
    request: &DecideRequest,
    decision: &Decision,
    experiment: &str,
    decider_id: &str,
) -> AdDecision {
    let privacy = &request.privacy;
    let consent_state = |c: Consent| match c {
        Consent::Granted => ConsentState::Granted,
        Consent::Denied => ConsentState::Denied,
        Consent::Pending => ConsentState::Unspecified,
    };
    AdDecision {
        decision_id: decision.id_hex(),
        decided_at_ms: decision.at_ms,
        site_key: request.site.clone(),
        slot_id: request.slot.clone(),
        placement_id: request.placement.clone(),
        visitor_key: decision.visitor_key.clone().unwrap_or_default(),
        privacy_mode: match decision.mode {
            Mode::Persistent => PrivacyMode::Persistent,
            Mode::Cookieless => PrivacyMode::Cookieless,
            Mode::Restricted => PrivacyMode::Restricted,
        } as i32,
        consent: Some(ConsentPurposes {
            personalization: consent_state(privacy.personalization) as i32,
            gpc: privacy.gpc,
            minor: privacy.minor,
            ..Default::default()
        }),
        policy: decision.policy.as_str().to_owned(),
        experiment: if decision.variant.is_some() {
            experiment.to_owned()
        } else {
            String::new()
        },
        variant: decision.variant.map_or("", |v| v.as_str()).to_owned(),
        page_subject: decision.page_subject.clone(),
        profile_events: decision.profile_events,
        creatives: decision
            .creatives
            .iter()
            .map(|c| DecidedCreative {
                creative_id: c.creative_id.clone(),
                campaign_id: c.creative.campaign.clone(),
                subject: c.creative.subject.clone(),
                course: c.creative.course.clone(),
                score: c.score,
            })
            .collect(),
        decider_id: decider_id.to_owned(),
    }
}
