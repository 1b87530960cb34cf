//! The decision service's one configuration type.
//!
//! Sources, weakest first: built-in defaults (documented on every field and in
//! `decide/README.md`), the TOML file given with `--config`, then the CLI flags
//! (`--listen`, `--brokers`, `--catalogue`, which also read their own `SIGHTLINE_DECIDE_*`
//! variables). Every limit is explicit here; none is hidden in the code.

use std::{net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};
use sightline_collector::config::OriginPattern;
use sightline_service::config::ReadError;
pub use sightline_service::logging::LogFormat;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("config is not valid TOML or has unknown/mistyped options: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything the service needs. `Config::default()` is a valid development configuration
/// (local broker, the demo catalogue path, no browser origin allowed).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub kafka: KafkaConfig,
    pub profiles: ProfilesConfig,
    pub experiment: ExperimentConfig,
    pub catalogue: CatalogueConfig,
    pub shutdown: ShutdownConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Open connections at most; further ones are closed at accept.
    pub max_connections: usize,
    /// `POST /v1/decide` requests being decided at once; beyond: 429 `overloaded`.
    pub max_in_flight_requests: usize,
    /// Time for a client to send a request head, on a new connection or an idle
    /// keep-alive one (slowloris and idle-connection bound).
    pub header_read_timeout_ms: u64,
    /// Time for the whole body once the head is in.
    pub body_read_timeout_ms: u64,
    /// Bytes of a request head at most (hyper answers 431 beyond; at least 8192).
    pub max_header_bytes: usize,
    /// Browser origins allowed to call `/v1/decide` (CORS), e.g. `http://localhost:*`.
    /// Empty: no browser page may (server-side callers send no `Origin` and need none).
    pub allowed_origins: Vec<OriginPattern>,
    /// `Access-Control-Max-Age` of preflight answers.
    pub cors_max_age_s: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            max_connections: 4096,
            max_in_flight_requests: 1024,
            header_read_timeout_ms: 5_000,
            body_read_timeout_ms: 2_000,
            max_header_bytes: 16 * 1024,
            allowed_origins: Vec::new(),
            cors_max_age_s: 600,
        }
    }
}

/// Request limits of `POST /v1/decide`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Body bytes at most (413 `body_too_large`).
    pub max_body_bytes: usize,
    /// Bytes of a page URL (400 `field_too_long`).
    pub max_url_len: usize,
    /// Bytes of every other string (site, slot, placement, ids, college, cohort, subject).
    pub max_field_len: usize,
    /// Creatives one request may ask for (`count`, 400 `invalid_count` beyond).
    pub max_count: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024,
            max_url_len: 2048,
            max_field_len: 128,
            max_count: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers.
    pub brokers: String,
    /// Topic name prefix, as the collector's `routing.prefix`.
    pub topic_prefix: String,
    /// Topic suffixes read for profiles. The collector's default layout puts every event of
    /// a batch on `events`; the per-kind topics carry them under `per_kind`/`per_event`.
    /// Missing topics are skipped (and looked for again every `metadata_refresh_ms`).
    pub topics: Vec<String>,
    /// Suffix of the compacted erasure topic (`sightline-admin erase`): always read from
    /// its beginning; an erased visitor's profile is dropped and their older events never
    /// folded again. Empty: erasures are not read.
    pub erasures_topic: String,
    /// Suffix of the decision log topic (`AdDecision` records, keyed by visitor).
    pub decisions_topic: String,
    /// Produce the decision log. Off only in tests and benchmarks without a broker.
    pub log_decisions: bool,
    /// Consumer group id: only a name for the broker's logs. Every replica reads every
    /// partition by manual assignment and commits nothing.
    pub group_id: String,
    /// How far back profiles are rebuilt at start (seconds of history read from each
    /// partition; older records barely weigh after decay anyway).
    pub lookback_s: u64,
    /// How often topics and partitions are looked up again (new topics, added partitions).
    pub metadata_refresh_ms: u64,
    /// Metadata and watermark requests time out after this long.
    pub request_timeout_ms: u64,
    /// Producer: messages waiting for the broker at most; beyond, decisions are still
    /// answered and the log record is dropped (counted).
    pub producer_queue_max_messages: u32,
    /// Producer `linger.ms`: decision records are batched this long.
    pub producer_linger_ms: u32,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".to_owned(),
            topic_prefix: "sightline.".to_owned(),
            topics: [
                "events",
                "page_views",
                "clicks",
                "hovers",
                "ad_clicks",
                "searches",
            ]
            .map(str::to_owned)
            .to_vec(),
            erasures_topic: "erasures".to_owned(),
            decisions_topic: "ad_decisions".to_owned(),
            log_decisions: true,
            group_id: "sightline-decide".to_owned(),
            lookback_s: 14 * 86_400,
            metadata_refresh_ms: 10_000,
            request_timeout_ms: 10_000,
            producer_queue_max_messages: 100_000,
            producer_linger_ms: 20,
        }
    }
}

impl KafkaConfig {
    pub fn topic(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.topic_prefix)
    }
}

/// Weight one event adds to its subject(s) before decay.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalWeights {
    /// A search whose query names a subject (split between the subjects it names).
    pub search: f64,
    /// A course page view (`/courses/<id>`) or subject page (`/subject/<slug>`).
    pub page_view: f64,
    /// A hover on a course link or an ad.
    pub hover: f64,
    /// A click on a course link.
    pub click: f64,
    /// A click on an ad (its creative's subject).
    pub ad_click: f64,
}

impl Default for SignalWeights {
    fn default() -> Self {
        Self {
            search: 3.0,
            page_view: 2.0,
            hover: 0.5,
            click: 1.5,
            ad_click: 4.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfilesConfig {
    /// Half-life of an interest: a signal weighs half as much this many seconds later.
    pub half_life_s: u64,
    /// Visitor profiles kept at most; the least recently used is evicted beyond (counted).
    pub max_profiles: usize,
    /// Subjects kept per profile; the weakest is dropped beyond.
    pub max_subjects_per_profile: usize,
    /// Popularity groups (site, site + college, site + cohort) kept at most; the least
    /// recently updated is evicted beyond.
    pub max_popularity_groups: usize,
    pub weights: SignalWeights,
}

impl Default for ProfilesConfig {
    fn default() -> Self {
        Self {
            half_life_s: 7 * 86_400,
            max_profiles: 200_000,
            max_subjects_per_profile: 16,
            max_popularity_groups: 10_000,
            weights: SignalWeights::default(),
        }
    }
}

/// Experiment `ad_policy`: `control` (today's static ads) against `personalized`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Experiment name (what analysis groups by).
    pub name: String,
    /// Mixed into the assignment hash: changing it reshuffles everybody.
    pub salt: String,
    /// Share of profiled-eligible visitors in `personalized` (0..=1); the rest are `control`.
    pub personalized_share: f64,
    /// Share of personalized decisions that pick uniformly among eligible creatives
    /// (policy `explore`) so new creatives get traffic.
    pub epsilon: f64,
    /// Weight of the page's subject in behavioural scores (interest share is 0..1).
    pub context_weight: f64,
    /// Weight of college/cohort/site popularity in every score.
    pub popularity_weight: f64,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            name: "ad_policy".to_owned(),
            salt: "ad_policy-2026-12".to_owned(),
            personalized_share: 0.5,
            epsilon: 0.05,
            context_weight: 0.3,
            popularity_weight: 0.2,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogueConfig {
    /// Catalogue TOML (creatives, courses, keywords, static slots).
    pub path: PathBuf,
    /// How often the file's modification time is checked; a changed, valid file replaces
    /// the catalogue (an invalid one is logged and the old one kept). 0: never.
    pub reload_interval_ms: u64,
}

impl Default for CatalogueConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("decide/catalogue.toml"),
            reload_interval_ms: 2_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM, `/readyz` answers 503 this long before the listener closes, so the
    /// balancer stops sending first.
    pub readiness_grace_ms: u64,
    /// In-flight requests get this long to finish.
    pub drain_timeout_ms: u64,
    /// The decision log producer gets this long to deliver what it holds.
    pub flush_timeout_ms: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            readiness_grace_ms: 0,
            drain_timeout_ms: 5_000,
            flush_timeout_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info` or `sightline_decide=debug`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

impl Config {
    pub fn load(path: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let text = sightline_service::config::read_text(path)?;
        Ok(toml::from_str(&text)?)
    }

    /// Refuses values that would make the service misbehave rather than fail.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| Err(ConfigError::Invalid(what.to_owned()));
        let e = &self.experiment;
        if !(0.0..=1.0).contains(&e.personalized_share) {
            return bad("experiment.personalized_share must be within 0..=1");
        }
        if !(0.0..=1.0).contains(&e.epsilon) {
            return bad("experiment.epsilon must be within 0..=1");
        }
        if !(e.context_weight >= 0.0 && e.popularity_weight >= 0.0) {
            return bad("experiment weights must be >= 0");
        }
        let p = &self.profiles;
        if p.half_life_s == 0 {
            return bad("profiles.half_life_s must be > 0");
        }
        if p.max_profiles == 0 || p.max_subjects_per_profile == 0 || p.max_popularity_groups == 0 {
            return bad("profiles.max_* must be > 0");
        }
        let w = &p.weights;
        if [w.search, w.page_view, w.hover, w.click, w.ad_click]
            .iter()
            .any(|w| !(w.is_finite() && *w >= 0.0))
        {
            return bad("profiles.weights must be finite and >= 0");
        }
        let l = &self.limits;
        if l.max_body_bytes == 0 || l.max_field_len == 0 || l.max_url_len == 0 || l.max_count == 0 {
            return bad("limits.* must be > 0");
        }
        if self.server.max_connections == 0 || self.server.max_in_flight_requests == 0 {
            return bad("server.max_connections and max_in_flight_requests must be > 0");
        }
        if self.server.max_header_bytes < 8192 {
            return bad("server.max_header_bytes must be >= 8192 (hyper's minimum)");
        }
        if self.kafka.topics.is_empty() {
            return bad("kafka.topics must name at least one topic");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_unknown_options_are_refused() {
        Config::default().validate().unwrap();
        assert!(toml::from_str::<Config>("[server]\nlisten_on = 1").is_err());
        let c: Config = toml::from_str("[experiment]\nepsilon = 2.0").unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn the_example_file_is_valid() {
        let c: Config = toml::from_str(include_str!("../decide.example.toml")).unwrap();
        c.validate().unwrap();
        assert!(
            c.server
                .allowed_origins
                .iter()
                .any(|p| p.matches("http://localhost:5173"))
        );
    }
}
