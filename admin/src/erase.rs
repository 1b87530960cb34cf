//! `erase`: one erasure request, written to the compacted erasures topic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args};
use futures::executor::block_on;
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication},
    client::DefaultClientContext,
    error::RDKafkaErrorCode,
    producer::{BaseProducer, BaseRecord, Producer},
};
use serde::Serialize;

use crate::error::AdminError;

/// Longest id accepted (the collector's `limits.max_name_len` default).
const MAX_ID_LEN: usize = 256;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("id").required(true).multiple(false).args(["user_id", "anonymous_id", "visitor_id"])))]
pub struct EraseArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "SIGHTLINE_KAFKA", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The erasures topic (compacted).
    #[arg(long, default_value = "sightline.erasures")]
    pub topic: String,
    /// Partitions when the topic has to be created.
    #[arg(long, default_value_t = 1)]
    pub partitions: i32,
    /// Replication factor when the topic has to be created.
    #[arg(long, default_value_t = 1)]
    pub replication: i32,
    /// Site key (`[[sites]] key`) the person's events belong to.
    #[arg(long)]
    pub site: String,
    /// The user id the site sent with identify().
    #[arg(long)]
    pub user_id: Option<String>,
    /// The SDK's anonymous id (persistent mode).
    #[arg(long)]
    pub anonymous_id: Option<String>,
    /// A cookieless visitor id (one day of one visitor).
    #[arg(long)]
    pub visitor_id: Option<String>,
    /// Why (ticket number, "DPDP s.12 request"): kept with the request for the audit trail.
    #[arg(long, default_value = "")]
    pub reason: String,
}

/// The record's value (JSON); its key is [`ErasureRequest::key`].
#[derive(Debug, Serialize)]
pub struct ErasureRequest<'a> {
    pub site: &'a str,
    /// `user_id`, `anonymous_id` or `visitor_id`: the ClickHouse column to match.
    pub id_kind: &'static str,
    pub id: &'a str,
    pub requested_at_ms: i64,
    pub reason: &'a str,
}

impl ErasureRequest<'_> {
    /// Site, id kind and id, tab-separated (neither may contain a tab): one key per
    /// person, so compaction keeps each person's latest request.
    pub fn key(&self) -> String {
        format!("{}\t{}\t{}", self.site, self.id_kind, self.id)
    }
}

fn checked<'a>(name: &str, value: &'a str) -> Result<&'a str, AdminError> {
    if value.trim().is_empty() {
        return Err(AdminError::InvalidArgument(format!("--{name} is empty")));
    }
    if value.len() > MAX_ID_LEN {
        return Err(AdminError::InvalidArgument(format!(
            "--{name} is {} bytes, longer than {MAX_ID_LEN}",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(AdminError::InvalidArgument(format!(
            "--{name} contains a control character"
        )));
    }
    Ok(value)
}

/// The request the arguments describe, validated.
pub fn request(args: &EraseArgs, now_ms: i64) -> Result<ErasureRequest<'_>, AdminError> {
    let site = checked("site", &args.site)?;
    let (id_kind, id) = match (&args.user_id, &args.anonymous_id, &args.visitor_id) {
        (Some(id), None, None) => ("user_id", checked("user-id", id)?),
        (None, Some(id), None) => ("anonymous_id", checked("anonymous-id", id)?),
        (None, None, Some(id)) => ("visitor_id", checked("visitor-id", id)?),
        _ => {
            return Err(AdminError::InvalidArgument(
                "give exactly one of --user-id, --anonymous-id, --visitor-id".into(),
            ));
        }
    };
    Ok(ErasureRequest {
        site,
        id_kind,
        id,
        requested_at_ms: now_ms,
        reason: &args.reason,
    })
}

fn kafka(args: &EraseArgs, detail: impl std::fmt::Display) -> AdminError {
    AdminError::Kafka {
        brokers: args.brokers.clone(),
        detail: detail.to_string(),
    }
}

/// Creates the topic compacted when missing; refuses one that exists uncompacted.
fn ensure_compacted_topic(args: &EraseArgs, config: &ClientConfig) -> Result<(), AdminError> {
    let admin: AdminClient<DefaultClientContext> = config.create().map_err(|e| kafka(args, e))?;
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let topic = NewTopic::new(
        &args.topic,
        args.partitions,
        TopicReplication::Fixed(args.replication),
    )
    .set("cleanup.policy", "compact");
    let created = block_on(admin.create_topics([&topic], &options)).map_err(|e| kafka(args, e))?;
    for result in created {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(kafka(args, format!("creating {name}: {code}"))),
        }
    }
    let described =
        block_on(admin.describe_configs([&ResourceSpecifier::Topic(&args.topic)], &options))
            .map_err(|e| kafka(args, e))?;
    let policy = described
        .into_iter()
        .flatten()
        .find_map(|resource| {
            resource
                .get("cleanup.policy")
                .and_then(|entry| entry.value.clone())
        })
        .unwrap_or_default();
    if policy.split(',').any(|p| p.trim() == "compact") {
        Ok(())
    } else {
        Err(AdminError::NotCompacted {
            topic: args.topic.clone(),
            policy,
        })
    }
}

/// What `erase` prints.
#[derive(Debug, Serialize)]
struct Written<'a> {
    erasure_request: &'a ErasureRequest<'a>,
    topic: &'a str,
    key: String,
    partition: i32,
    offset: i64,
}

pub fn run(args: &EraseArgs) -> Result<String, AdminError> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let request = request(args, now_ms)?;
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.brokers)
        .set("message.timeout.ms", "15000")
        .set("enable.idempotence", "true")
        .set("acks", "all");
    ensure_compacted_topic(args, &config)?;
    let producer: BaseProducer<DeliveryContext> = config
        .create_with_context(DeliveryContext::default())
        .map_err(|e| kafka(args, e))?;
    let key = request.key();
    let value = serde_json::to_vec(&request).map_err(|e| kafka(args, e))?;
    producer
        .send(BaseRecord::to(&args.topic).key(&key).payload(&value))
        .map_err(|(e, _)| kafka(args, e))?;
    producer
        .flush(Duration::from_secs(20))
        .map_err(|e| kafka(args, e))?;
    let (partition, offset) = producer
        .context()
        .delivered()
        .ok_or_else(|| kafka(args, "the request was not acknowledged"))?
        .map_err(|e| kafka(args, e))?;
    serde_json::to_string(&Written {
        erasure_request: &request,
        topic: &args.topic,
        key,
        partition,
        offset,
    })
    .map_err(|e| kafka(args, e))
}

/// Records the one delivery report (partition and offset, or the error).
#[derive(Default)]
struct DeliveryContext {
    report: std::sync::Mutex<Option<Result<(i32, i64), String>>>,
}

impl DeliveryContext {
    fn delivered(&self) -> Option<Result<(i32, i64), String>> {
        self.report
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl rdkafka::ClientContext for DeliveryContext {}

impl rdkafka::producer::ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();

    fn delivery(
        &self,
        result: &rdkafka::message::DeliveryResult<'_>,
        _opaque: Self::DeliveryOpaque,
    ) {
        use rdkafka::Message as _;
        let report = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((err, _)) => Err(err.to_string()),
        };
        *self
            .report
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(report);
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: EraseArgs,
    }

    fn parse(argv: &[&str]) -> Result<EraseArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("erase").chain(argv.iter().copied()))
            .map(|w| w.args)
    }

    #[test]
    fn one_id_is_required_and_only_one() {
        assert!(parse(&["--site", "demo"]).is_err());
        assert!(parse(&["--site", "demo", "--user-id", "u", "--anonymous-id", "a"]).is_err());
        let args = parse(&["--site", "demo", "--visitor-id", "v"]).unwrap();
        let request = request(&args, 5).unwrap();
        assert_eq!((request.id_kind, request.id), ("visitor_id", "v"));
        assert_eq!(request.key(), "demo\tvisitor_id\tv");
    }

    #[test]
    fn empty_long_and_control_values_are_refused() {
        for argv in [
            ["--site", "", "--user-id", "u"],
            ["--site", "demo", "--user-id", " "],
            ["--site", "demo", "--user-id", "a\tb"],
        ] {
            let args = parse(&argv).unwrap();
            assert!(matches!(
                request(&args, 0),
                Err(AdminError::InvalidArgument(_))
            ));
        }
        let long = "x".repeat(MAX_ID_LEN + 1);
        let args = parse(&["--site", "demo", "--anonymous-id", &long]).unwrap();
        let err = request(&args, 0).unwrap_err().to_string();
        assert!(err.contains("longer than 256"), "{err}");
    }
}
