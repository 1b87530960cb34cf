//! The collector's one configuration type.
//!
//! Sources, weakest first: built-in defaults (documented on every field and in
//! `collector/README.md`), the TOML file given with `--config`, environment variables
//! `SIGHTLINE__SECTION__OPTION` (any option, value parsed as TOML, e.g.
//! `SIGHTLINE__LIMITS__MAX_BODY_BYTES=1048576`), then the CLI flags (`--listen`,
//! `--brokers`, … which also read their own `SIGHTLINE_*` variables).
//!
//! A leaf: it imports no other collector module (only its own `origin` patterns, the
//! kind names of `sightline-proto` and the file reading and `LogFormat` of
//! `sightline-service`), so every module can depend on it and none of its types drags in
//! the request path.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sightline_service::config::ReadError;
pub use sightline_service::logging::LogFormat;

mod origin;
pub use origin::{OriginPattern, OriginPatternError};

/// Prefix of the generic environment overrides (`SIGHTLINE__LIMITS__MAX_BODY_BYTES`).
pub const ENV_PREFIX: &str = "SIGHTLINE__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("config is not valid TOML or has unknown/mistyped options: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("environment variable {name}: {detail}")]
    Env { name: String, detail: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything the collector needs to run. `Config::default()` is a valid development
/// configuration with no sites (every batch is refused until a site is configured).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub connections: ConnectionsConfig,
    pub limits: LimitsConfig,
    pub rate_limits: RateLimitsConfig,
    pub kafka: KafkaConfig,
    pub routing: RoutingConfig,
    pub spool: SpoolConfig,
    pub shutdown: ShutdownConfig,
    pub log: LogConfig,
    pub enrich: EnrichConfig,
    pub ivt: IvtConfig,
    pub privacy: PrivacyConfig,
    /// Sites allowed to send data, keyed by their public site key.
    pub sites: Vec<SiteConfig>,
    pub import: ImportConfig,
    /// Server and app sources of the JSON import API, each with its secret write key.
    pub sources: Vec<SourceConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Connections beyond this are closed at accept (`connections_refused_total`).
    pub max_connections: usize,
    /// `POST /v1/batch` requests processed (inflated, decoded, produced) at once. The
    /// slot is taken once the body is in, so slow senders cannot hold it; beyond, 503
    /// `overloaded` with `Retry-After: 1`. Bounds memory: at most this many bodies are
    /// being inflated (each ≤ `limits.max_decompressed_bytes`).
    pub max_in_flight_requests: usize,
    /// `POST /v1/batch` requests in progress (head received, not yet answered) per
    /// client address (IPv6: per /64), counted from the head on, so one address cannot
    /// hold every body-read slot; beyond, 429 `rate_limited` (`ip_concurrency`).
    /// 0 disables.
    pub max_in_flight_requests_per_ip: usize,
    /// Bytes of request bodies received and held at once, over all requests (charged as
    /// they arrive, released with the answer); a request that would exceed it gets 503
    /// `overloaded`. Must be at least `limits.max_body_bytes`.
    pub max_buffered_body_bytes: usize,
    /// Every connection must deliver a complete first request head within this time
    /// from accept (PROXY header and HTTP/1-vs-HTTP/2 detection included), else it is
    /// closed; for HTTP/1.1 also every later head, timed from the previous answer.
    pub header_read_timeout_ms: u64,
    /// The whole body must arrive within this time, else 408.
    pub body_read_timeout_ms: u64,
    /// After a refusal (413, 401, 429, …) the unread rest of the body, up to this many
    /// bytes (within `body_read_timeout_ms`), is read and thrown away while the answer
    /// goes out, so the client receives the answer instead of a connection reset (and
    /// libraries that retry resets but not 4xx do not resend it). A body declaring more
    /// is not read: the connection closes. 0 disables.
    pub max_discarded_body_bytes: usize,
    /// Accept HTTP/2 (h2c, prior knowledge) besides HTTP/1.1.
    pub http2: bool,
    /// Require a PROXY protocol v2 header on every connection (cloud network load
    /// balancers); its source address replaces the socket peer (a LOCAL command keeps the
    /// peer).
    pub proxy_protocol: bool,
    /// Time to receive the PROXY header.
    pub proxy_protocol_timeout_ms: u64,
    /// Peers (CIDRs) whose `Forwarded` / `X-Forwarded-For` headers are believed; the
    /// rightmost untrusted hop is the client. Empty: the socket (or PROXY) address is.
    pub trusted_proxies: Vec<IpNet>,
    /// Written into every record as `collector_id`; empty: `$HOSTNAME` when the
    /// configuration is loaded, else `collector`.
    pub collector_id: String,
    /// `Access-Control-Max-Age` of preflight answers (how long browsers cache them).
    pub cors_max_age_s: u64,
    /// Refuse batches without an `Origin` header (403 `missing_origin`).
    pub require_origin: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_connections: 10_000,
            max_in_flight_requests: 256,
            max_in_flight_requests_per_ip: 64,
            max_buffered_body_bytes: 128 * 1024 * 1024,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_discarded_body_bytes: 8 * 1024 * 1024,
            http2: true,
            proxy_protocol: false,
            proxy_protocol_timeout_ms: 5_000,
            trusted_proxies: Vec::new(),
            collector_id: String::new(),
            cors_max_age_s: 86_400,
            require_origin: false,
        }
    }
}

/// Connection-level abuse limits (see "Connection abuse" in `collector/README.md`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Open connections per client address (the PROXY header's source when
    /// `server.proxy_protocol`, else the socket peer; IPv6 per /64). Peers in
    /// `server.trusted_proxies` are not capped: they carry many clients. 0 disables.
    pub max_per_ip: usize,
    /// A connection with no request in progress for this long is closed (HTTP/2:
    /// GOAWAY). HTTP/1.1 idle connections are also closed at
    /// `server.header_read_timeout_ms`.
    pub idle_timeout_ms: u64,
    /// Connections older than this are asked to close once their requests are answered
    /// (HTTP/2 GOAWAY, HTTP/1.1 `Connection: close`), so long-lived balancer
    /// connections get spread again after scaling; they are cut
    /// `shutdown.drain_timeout_ms` later. 0 disables.
    pub max_age_ms: u64,
    /// Largest request head: HTTP/1.1 read buffer while parsing a head (431 beyond) and
    /// HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE`. At least 8 192.
    pub max_header_bytes: usize,
    /// Concurrent streams per HTTP/2 connection.
    pub http2_max_concurrent_streams: u32,
    /// Streams a client may reset before the server accepted them (rapid reset,
    /// CVE-2023-44487 / CVE-2023-26964); beyond, the connection is closed.
    pub http2_max_pending_accept_reset_streams: usize,
    /// Streams the server may reset because of client protocol errors before it closes
    /// the connection (RUSTSEC-2024-0003).
    pub http2_max_local_error_reset_streams: usize,
    /// Response bytes buffered per HTTP/2 stream for a client that does not read.
    pub http2_max_send_buf_bytes: usize,
    /// HTTP/2 PING after this long without a frame from the client; 0 disables.
    pub http2_keep_alive_interval_ms: u64,
    /// A PING not answered within this closes the connection (a dead peer or a
    /// half-open TCP connection).
    pub http2_keep_alive_timeout_ms: u64,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self {
            max_per_ip: 1_000,
            idle_timeout_ms: 60_000,
            max_age_ms: 0,
            max_header_bytes: 32 * 1024,
            http2_max_concurrent_streams: 256,
            http2_max_pending_accept_reset_streams: 20,
            http2_max_local_error_reset_streams: 1_024,
            http2_max_send_buf_bytes: 64 * 1024,
            http2_keep_alive_interval_ms: 20_000,
            http2_keep_alive_timeout_ms: 20_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Request body as sent (compressed or not), bytes; beyond, 413.
    pub max_body_bytes: usize,
    /// Body after gzip inflation, bytes, enforced while inflating; beyond, 413.
    pub max_decompressed_bytes: usize,
    /// Events in one batch; beyond, 413.
    pub max_events_per_batch: usize,
    /// URLs, referrers and hrefs, bytes.
    pub max_url_len: usize,
    /// CSS selectors, bytes.
    pub max_selector_len: usize,
    /// Names and ids, bytes: event names, property keys, data-* names, tags, element ids,
    /// ad ids, identity ids, locale, SDK version.
    pub max_name_len: usize,
    /// Every other string, bytes: property values, search query, trait and data values.
    pub max_string_len: usize,
    /// Properties of a custom event; also data-* attributes, traits, experiments.
    pub max_properties: usize,
    /// User-Agent kept in records, bytes (longer ones are cut, not rejected).
    pub max_user_agent_len: usize,
    /// Oldest corrected event time accepted, seconds before receipt (7 days by default,
    /// so queued offline batches still count).
    pub max_event_age_s: u64,
    /// Newest corrected event time accepted, seconds ahead of the server clock.
    pub max_event_future_s: u64,
    /// `Batch.evicted_batches` (the SDK's durable-queue evictions since its last report)
    /// above this is not believed and not counted; the batch itself is still accepted.
    /// A report covers the evictions since the browser's previous batch, which make room
    /// for a few new batches (the SDK's queue is 1 MiB by default).
    pub max_evicted_batches_reported: u32,
    /// Prefix length IPv4 client addresses are truncated to.
    pub ipv4_prefix: u8,
    /// Prefix length IPv6 client addresses are truncated to.
    pub ipv6_prefix: u8,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 512 * 1024,
            max_decompressed_bytes: 2 * 1024 * 1024,
            max_events_per_batch: 500,
            max_url_len: 2048,
            max_selector_len: 512,
            max_name_len: 128,
            max_string_len: 1024,
            max_properties: 64,
            max_user_agent_len: 512,
            max_event_age_s: 7 * 24 * 3600,
            max_event_future_s: 300,
            max_evicted_batches_reported: 10_000,
            ipv4_prefix: 24,
            ipv6_prefix: 48,
        }
    }
}

/// What to do with events of a user id that sends far above a human rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HotUserAction {
    /// Produce them to the overflow topic without a key (spread over its partitions).
    Overflow,
    /// Refuse the batch with 429.
    Reject,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitsConfig {
    /// Requests per second per client IP (the full address, in memory only); 0 disables.
    pub per_ip_per_s: u32,
    /// Burst of requests per client IP.
    pub per_ip_burst: u32,
    /// Events per second per site key; 0 disables.
    pub per_site_events_per_s: u32,
    /// Burst of events per site key.
    pub per_site_events_burst: u32,
    /// Events per second per user key (user id, else anonymous id); 0 disables.
    pub hot_user_events_per_s: u32,
    /// Burst of events per user key.
    pub hot_user_events_burst: u32,
    /// `overflow` (unkeyed to the overflow topic) or `reject` (429).
    pub hot_user_action: HotUserAction,
    /// Imported messages per second per source (write key, `[[sources]]`); 0 disables.
    /// They count against their site's `per_site_events_per_s` too.
    pub per_source_events_per_s: u32,
    /// Burst of imported messages per source.
    pub per_source_events_burst: u32,
    /// Idle limiter keys are forgotten this often, seconds (bounds limiter memory).
    pub cleanup_interval_s: u64,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            per_ip_per_s: 50,
            per_ip_burst: 200,
            per_site_events_per_s: 20_000,
            per_site_events_burst: 100_000,
            hot_user_events_per_s: 50,
            hot_user_events_burst: 2_000,
            hot_user_action: HotUserAction::Overflow,
            per_source_events_per_s: 5_000,
            per_source_events_burst: 50_000,
            cleanup_interval_s: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    Lz4,
    Zstd,
}

impl Compression {
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated.
    pub brokers: String,
    /// `lz4` or `zstd`.
    pub compression: Compression,
    /// librdkafka `linger.ms`: how long records wait to be batched.
    pub linger_ms: u64,
    /// A record not acknowledged within this time fails its request with 503
    /// (librdkafka `message.timeout.ms`).
    pub ack_timeout_ms: u64,
    /// Producer queue capacity, records (`queue.buffering.max.messages`).
    pub queue_max_messages: u32,
    /// Producer queue capacity, KiB (`queue.buffering.max.kbytes`).
    pub queue_max_kbytes: u32,
    /// `/readyz` answers 503 when the queue holds more than this percentage of
    /// `queue_max_messages`.
    pub queue_high_water_pct: u8,
    /// How often broker reachability is probed for `/readyz`.
    pub health_check_interval_ms: u64,
    /// `Retry-After` seconds sent with 503 when Kafka is unavailable or the queue is full.
    pub retry_after_s: u64,
    /// Extra librdkafka producer properties (e.g. SASL/TLS), applied last.
    pub extra: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".to_owned(),
            compression: Compression::Lz4,
            linger_ms: 5,
            ack_timeout_ms: 30_000,
            queue_max_messages: 100_000,
            queue_max_kbytes: 128 * 1024,
            queue_high_water_pct: 80,
            health_check_interval_ms: 5_000,
            retry_after_s: 5,
            extra: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// Prepended to every topic suffix.
    pub prefix: String,
    /// Topic suffix per event kind, overriding the defaults (`click = "clicks"`, …); keys
    /// are the kind names of `sightline-proto` (`proto/kinds.json`).
    pub topics: BTreeMap<String, String>,
    /// Dead-letter topic suffix.
    pub rejected: String,
    /// Hot-user overflow topic suffix.
    pub overflow: String,
    /// Record layout (proto/README.md, "Kafka record contract"): `per_batch` = one record
    /// per request on the `topic` topic holding all its accepted events (layout v2,
    /// length-delimited); `per_kind` = one v2 record per request and kind on the kind's
    /// topic; `per_event` = one event per record on the kind's topic (layout v1).
    pub records: RecordLayout,
    /// Topic suffix of the `per_batch` layout.
    pub topic: String,
    /// A v2 record's value is kept below this many bytes: a request whose events encode
    /// larger is split into several records, same key, in order. Keep it below the
    /// broker's `message.max.bytes` (1 MiB by default) minus headers and overhead.
    pub max_record_bytes: usize,
}

/// How accepted events are laid out in Kafka records (`routing.records`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordLayout {
    PerBatch,
    PerKind,
    PerEvent,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            prefix: "sightline.".to_owned(),
            topics: BTreeMap::new(),
            rejected: sightline_proto::TOPIC_SUFFIXES.rejected.to_owned(),
            overflow: sightline_proto::TOPIC_SUFFIXES.overflow.to_owned(),
            records: RecordLayout::PerBatch,
            topic: sightline_proto::TOPIC_SUFFIXES.events.to_owned(),
            max_record_bytes: 900 * 1024,
        }
    }
}

/// The durable spool (write-ahead log) in front of Kafka; see `sinks::spool`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpoolConfig {
    /// Spool records when Kafka is unreachable, slow or its queue is above the
    /// high-water mark, instead of answering 503.
    pub enabled: bool,
    /// Directory of the segment files (relative to the working directory); must be on
    /// persistent storage and used by one collector process only (it is locked). `{port}`
    /// is replaced by the listen port, so several collectors on one host (demo, tests) get
    /// their own directory and a restarted one finds its own again.
    pub dir: PathBuf,
    /// Byte cap of all segments; appends beyond are refused with 503 `spool_full`.
    pub max_bytes: u64,
    /// A segment file is closed and a new one started beyond this size, bytes; replayed
    /// segments are deleted whole.
    pub segment_bytes: u64,
    /// `/readyz` answers 503 `spool_above_high_water` when the spool holds more than
    /// this percentage of `max_bytes`.
    pub ready_max_pct: u8,
    /// A request whose records Kafka has not acknowledged within this time is spooled
    /// instead (and answered once fsynced).
    pub direct_timeout_ms: u64,
    /// Requests that may wait for the writer thread; more wait for a slot.
    pub append_queue: usize,
    /// Records handed to Kafka per replay step (one step waits for all its acks).
    pub replay_batch_records: usize,
    /// Longest pause between replay attempts while Kafka fails.
    pub replay_backoff_max_ms: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::from("spool/{port}"),
            max_bytes: 1024 * 1024 * 1024,
            segment_bytes: 64 * 1024 * 1024,
            ready_max_pct: 50,
            direct_timeout_ms: 2_000,
            append_queue: 4_096,
            replay_batch_records: 2_000,
            replay_backoff_max_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM, `/readyz` answers 503 for this long before the listener closes,
    /// so load balancers stop sending.
    pub readiness_grace_ms: u64,
    /// In-flight requests get this long to finish.
    pub drain_timeout_ms: u64,
    /// Then the producer gets this long to flush (and the spool to drain).
    pub flush_timeout_ms: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            readiness_grace_ms: 5_000,
            drain_timeout_ms: 30_000,
            flush_timeout_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// tracing env-filter directive; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// Device and geo enrichment (see "Invalid traffic and enrichment" in `collector/README.md`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrichConfig {
    /// Distinct user agents whose parse is cached (agents repeat heavily; the cache starts
    /// over when full, so memory stays bounded under forged agents). 0 disables the cache.
    pub user_agent_cache: usize,
    /// MaxMind-format City database (GeoIP2/GeoLite2/DB-IP City layout) for country,
    /// region and city; empty: no geo. Reloaded when the file changes.
    pub city_db: PathBuf,
    /// MaxMind-format ASN database (GeoLite2/DB-IP ASN layout) for the autonomous system;
    /// empty: no ASN. Reloaded when the file changes.
    pub asn_db: PathBuf,
    /// How often the database files are checked for changes.
    pub reload_interval_ms: u64,
    /// Autonomous systems of hosting and cloud providers: traffic from them is GIVT
    /// `datacenter` (needs `asn_db`). The default lists the large clouds (AWS, Google Cloud,
    /// Azure, DigitalOcean, OVH, Hetzner, Linode, Vultr, Oracle, Alibaba, Tencent, Contabo)
    /// and deliberately not Cloudflare or Akamai, whose ASNs carry people's relay and VPN
    /// traffic (iCloud Private Relay, WARP).
    pub datacenter_asns: Vec<u32>,
    /// Address ranges treated as data centers whatever the ASN database says.
    pub datacenter_ranges: Vec<IpNet>,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        Self {
            user_agent_cache: 10_000,
            city_db: PathBuf::new(),
            asn_db: PathBuf::new(),
            reload_interval_ms: 60_000,
            datacenter_asns: vec![
                16509, 14618, 396_982, 8075, 14061, 16276, 24940, 63949, 20473, 31898, 45102,
                132_203, 51167,
            ],
            datacenter_ranges: Vec::new(),
        }
    }
}

/// Invalid-traffic (IVT) classification: thresholds of the sophisticated (SIVT) heuristics
/// and the bounds of their state. Each threshold's rationale is in `collector/README.md`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IvtConfig {
    /// An ad click sooner than this after the ad was first seen (or, with no impression
    /// seen, after its page view started) is `click_too_fast`. 0 disables.
    pub click_min_visible_ms: u64,
    /// More ad clicks than this by one user within `click_burst_window_ms` are
    /// `click_burst` (the clicks beyond it). 0 disables.
    pub click_burst_max: u32,
    /// The sliding window of `click_burst_max`.
    pub click_burst_window_ms: u64,
    /// More distinct anonymous ids than this from one client address (IPv6: /64) within
    /// `ip_window_ms` are `ip_many_ids` (the events of the ids beyond it). 0 disables.
    pub ip_max_anonymous_ids: u32,
    /// The fixed window of `ip_max_anonymous_ids`.
    pub ip_window_ms: u64,
    /// An in-ad click position (x, y) repeated by one user more than this many times is
    /// `repeated_click_position`. 0 disables.
    pub repeated_click_position_max: u32,
    /// Per-user state (page views with their impressions, recent clicks) is forgotten
    /// after this long without events.
    pub state_ttl_ms: u64,
    /// Users tracked at once; beyond, new users are not tracked (their clicks skip the
    /// stateful rules) until idle ones are forgotten.
    pub max_tracked_users: usize,
    /// Client addresses tracked at once for `ip_many_ids`; same policy.
    pub max_tracked_ips: usize,
    /// Page views per user whose impressions are remembered (a user has a few tabs open).
    pub max_page_views_per_user: usize,
    /// Impressions remembered per page view.
    pub max_impressions_per_page_view: usize,
}

impl Default for IvtConfig {
    fn default() -> Self {
        Self {
            click_min_visible_ms: 500,
            click_burst_max: 5,
            click_burst_window_ms: 10_000,
            ip_max_anonymous_ids: 200,
            ip_window_ms: 60_000,
            repeated_click_position_max: 2,
            state_ttl_ms: 30 * 60_000,
            max_tracked_users: 100_000,
            max_tracked_ips: 20_000,
            max_page_views_per_user: 8,
            max_impressions_per_page_view: 32,
        }
    }
}

/// Privacy enforcement (issue 18, `collector/src/privacy/`, docs/privacy.md): the identity
/// mode of each batch, the cookieless visitor id and PII scrubbing.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Secret from which the cookieless visitor id's daily key is derived
    /// (HMAC-SHA256(secret, day)); at least 16 bytes. Every collector of a deployment must
    /// share it, so the id does not depend on which collector the balancer picked. Empty:
    /// `visitor_id_secret_file`; both empty: a random secret per process (ids then differ
    /// between collectors and across restarts: development only). Never logged.
    pub visitor_id_secret: String,
    /// File holding the secret (e.g. a mounted Kubernetes Secret), read at start; its
    /// surrounding whitespace is ignored. Used when `visitor_id_secret` is empty.
    pub visitor_id_secret_file: String,
    /// A batch without a mode (`PRIVACY_MODE_UNSPECIFIED`, SDKs before issue 18 and other
    /// producers) whose consent denies `storage` or `personalization` is enforced as
    /// COOKIELESS; off: such batches are PERSISTENT, as they always were.
    pub denied_storage_is_cookieless: bool,
    /// Replace e-mail addresses with `[email]` in search queries, custom-event string
    /// properties, URLs, referrers and element text.
    pub scrub_email: bool,
    /// Replace phone numbers (Indian mobile: 10 digits from 6–9, with `+91`, `91 ` or `0`
    /// prefixes, spaces or dashes; E.164 `+` and 8–15 digits) with `[phone]`.
    pub scrub_phone: bool,
    /// Replace Aadhaar numbers (12 digits, alone or 4-4-4, first 2–9, Verhoeff-valid) with
    /// `[aadhaar]`.
    pub scrub_aadhaar: bool,
    /// Replace PAN (`AAAAA9999A`, fourth letter a holder type) with `[pan]`.
    pub scrub_pan: bool,
    /// Replace payment card numbers (13–19 digits, Luhn-valid, card-like first digit) with
    /// `[card]`.
    pub scrub_card: bool,
    /// The secret read from `visitor_id_secret_file` (not an option).
    #[serde(skip)]
    secret_from_file: Option<String>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            visitor_id_secret: String::new(),
            visitor_id_secret_file: String::new(),
            denied_storage_is_cookieless: true,
            scrub_email: true,
            scrub_phone: true,
            scrub_aadhaar: true,
            scrub_pan: true,
            scrub_card: true,
            secret_from_file: None,
        }
    }
}

/// Never prints the secret.
impl std::fmt::Debug for PrivacyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivacyConfig")
            .field("visitor_id_secret", &"<redacted>")
            .field("visitor_id_secret_file", &self.visitor_id_secret_file)
            .field(
                "denied_storage_is_cookieless",
                &self.denied_storage_is_cookieless,
            )
            .finish_non_exhaustive()
    }
}

/// The shortest secret accepted: 128 bits.
pub const MIN_VISITOR_ID_SECRET_BYTES: usize = 16;

impl PrivacyConfig {
    /// The configured secret (the option, else the file's content), if any.
    pub fn visitor_id_secret(&self) -> Option<&[u8]> {
        if !self.visitor_id_secret.is_empty() {
            return Some(self.visitor_id_secret.as_bytes());
        }
        self.secret_from_file.as_deref().map(str::as_bytes)
    }

    fn load_secret_file(&mut self) -> Result<(), ConfigError> {
        if self.visitor_id_secret.is_empty() && !self.visitor_id_secret_file.is_empty() {
            let text = std::fs::read_to_string(&self.visitor_id_secret_file).map_err(|source| {
                ReadError {
                    path: self.visitor_id_secret_file.clone(),
                    source,
                }
            })?;
            self.secret_from_file = Some(text.trim().to_owned());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Public site key carried in `Batch.site_key` (or `?site=`).
    pub key: String,
    /// Origins allowed to send, e.g. `https://example.com`, `https://*.example.com`,
    /// `http://localhost:*` (any port). Never an arbitrary origin.
    #[serde(default)]
    pub allowed_origins: Vec<OriginPattern>,
}

/// The JSON import API (Segment spec: `/v1/batch` with a write key, `/v1/import/*`; see
/// "Sending events from servers and apps" in collector/README.md). Body, count and
/// string limits are `[limits]`'s, as for browser batches.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    /// Nesting depth of a JSON body (objects and arrays; a batch's message properties
    /// are at depth 3); deeper bodies are refused with 400 `json_too_deep` before they
    /// are parsed, so no input can exhaust the stack.
    pub max_depth: usize,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self { max_depth: 16 }
    }
}

/// What kind of sender a source is: it becomes `CollectedEvent.source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A backend (Segment/RudderStack server libraries, curl).
    #[default]
    Server,
    /// A mobile or desktop app.
    App,
}

/// One sender of the JSON import API.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Name in metrics and records (`source_name`), e.g. `backend`.
    pub name: String,
    /// Site key (of `[[sites]]`) the source's events belong to.
    pub site: String,
    /// The secret the libraries send as the HTTP Basic user name (their "write key").
    /// Compared in constant time, never logged.
    pub write_key: String,
    /// `server` or `app`.
    #[serde(default)]
    pub kind: SourceKind,
    /// Take the end user's address from a message's `context.ip` (a backend forwarding
    /// its users' actions); otherwise the connection's address is the event's.
    #[serde(default)]
    pub trust_client_ip: bool,
}

/// Never prints the write key.
impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceConfig")
            .field("name", &self.name)
            .field("site", &self.site)
            .field("write_key", &"<redacted>")
            .field("kind", &self.kind)
            .field("trust_client_ip", &self.trust_client_ip)
            .finish()
    }
}

impl Config {
    /// Reads `path` (if given), applies `SIGHTLINE__*` environment overrides and validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let text = sightline_service::config::read_text(path)?;
        Self::from_toml_with_env(&text, std::env::vars())
    }

    /// Parses TOML text, then overlays `SIGHTLINE__SECTION__OPTION` variables from `env`.
    pub fn from_toml_with_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table = text.parse()?;
        let mut hostname = None;
        for (name, value) in env {
            if name == "HOSTNAME" {
                hostname = Some(value);
                continue;
            }
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            set_path(&mut table, &keys, parse_env_value(&value)).map_err(|detail| {
                ConfigError::Env {
                    name: name.clone(),
                    detail,
                }
            })?;
        }
        let mut config: Config = toml::Value::Table(table).try_into()?;
        if config.server.collector_id.is_empty() {
            config.server.collector_id = hostname.unwrap_or_else(|| "collector".to_owned());
        }
        config.privacy.load_secret_file()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks relations between options that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self
            .privacy
            .visitor_id_secret()
            .is_some_and(|s| s.len() < MIN_VISITOR_ID_SECRET_BYTES)
        {
            return invalid(format!(
                "privacy.visitor_id_secret (or its file) must be at least \
                 {MIN_VISITOR_ID_SECRET_BYTES} bytes"
            ));
        }
        let l = &self.limits;
        if l.max_body_bytes == 0 || l.max_decompressed_bytes < l.max_body_bytes {
            return invalid(format!(
                "limits.max_decompressed_bytes ({}) must be >= limits.max_body_bytes ({}) > 0",
                l.max_decompressed_bytes, l.max_body_bytes
            ));
        }
        if l.max_events_per_batch == 0 {
            return invalid("limits.max_events_per_batch must be > 0".into());
        }
        if l.ipv4_prefix > 32 || l.ipv6_prefix > 128 {
            return invalid("limits.ipv4_prefix must be <= 32 and ipv6_prefix <= 128".into());
        }
        if self.server.max_connections == 0 {
            return invalid("server.max_connections must be > 0".into());
        }
        if self.kafka.brokers.trim().is_empty() {
            return invalid("kafka.brokers is empty".into());
        }
        if self.kafka.queue_high_water_pct == 0 || self.kafka.queue_high_water_pct > 100 {
            return invalid("kafka.queue_high_water_pct must be in 1..=100".into());
        }
        if self.server.max_in_flight_requests == 0 {
            return invalid("server.max_in_flight_requests must be > 0".into());
        }
        self.validate_abuse_limits()?;
        if self.enrich.reload_interval_ms == 0 {
            return invalid("enrich.reload_interval_ms must be > 0".into());
        }
        let ivt = &self.ivt;
        if ivt.click_burst_window_ms == 0 || ivt.ip_window_ms == 0 || ivt.state_ttl_ms == 0 {
            return invalid(
                "ivt.click_burst_window_ms, ivt.ip_window_ms and ivt.state_ttl_ms must be > 0"
                    .into(),
            );
        }
        if ivt.max_page_views_per_user == 0 || ivt.max_impressions_per_page_view == 0 {
            return invalid(
                "ivt.max_page_views_per_user and ivt.max_impressions_per_page_view must be > 0"
                    .into(),
            );
        }
        let spool = &self.spool;
        if spool.enabled {
            if spool.dir.as_os_str().is_empty() {
                return invalid("spool.dir is empty".into());
            }
            if spool.segment_bytes == 0 || spool.max_bytes < spool.segment_bytes {
                return invalid(format!(
                    "spool.max_bytes ({}) must be >= spool.segment_bytes ({}) > 0",
                    spool.max_bytes, spool.segment_bytes
                ));
            }
            if spool.ready_max_pct == 0 || spool.ready_max_pct > 100 {
                return invalid("spool.ready_max_pct must be in 1..=100".into());
            }
        }
        if self.kafka.ack_timeout_ms == 0 {
            return invalid("kafka.ack_timeout_ms must be > 0".into());
        }
        if self.routing.max_record_bytes < 1024 {
            return invalid("routing.max_record_bytes must be >= 1024".into());
        }
        for kind in self.routing.topics.keys() {
            if sightline_proto::v1::EventKind::from_name(kind).is_none() {
                return invalid(format!("routing.topics: unknown event kind {kind:?}"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for site in &self.sites {
            if site.key.is_empty() {
                return invalid("sites: a site has an empty key".into());
            }
            if !seen.insert(site.key.as_str()) {
                return invalid(format!("sites: duplicate key {:?}", site.key));
            }
        }
        self.validate_sources()
    }

    /// `[[sources]]` and `[import]` (issue 19).
    fn validate_sources(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.import.max_depth < 4 {
            return invalid("import.max_depth must be >= 4 (a batch's properties are at 3)".into());
        }
        let mut names = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for source in &self.sources {
            if source.name.is_empty() || !names.insert(source.name.as_str()) {
                return invalid(format!(
                    "sources: empty or duplicate name {:?}",
                    source.name
                ));
            }
            if !self.sites.iter().any(|s| s.key == source.site) {
                return invalid(format!(
                    "sources: {:?} names site {:?}, which is not in [[sites]]",
                    source.name, source.site
                ));
            }
            // Short keys can be guessed; the key itself is never printed.
            if source.write_key.len() < 16 || source.write_key.contains(':') {
                return invalid(format!(
                    "sources: {:?} needs a write_key of at least 16 characters without ':'",
                    source.name
                ));
            }
            if !keys.insert(source.write_key.as_str()) {
                return invalid(format!(
                    "sources: {:?} shares its write_key with another source",
                    source.name
                ));
            }
        }
        Ok(())
    }

    /// Connection and request abuse limits (issue 14).
    fn validate_abuse_limits(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        let (s, c) = (&self.server, &self.connections);
        // The connection semaphore is drained with one acquire at shutdown (u32 permits).
        if u32::try_from(s.max_connections).is_err() {
            return invalid("server.max_connections must be <= 4294967295".into());
        }
        if s.header_read_timeout_ms == 0 || s.body_read_timeout_ms == 0 {
            return invalid(
                "server.header_read_timeout_ms and body_read_timeout_ms must be > 0".into(),
            );
        }
        if s.max_buffered_body_bytes < self.limits.max_body_bytes {
            return invalid(format!(
                "server.max_buffered_body_bytes ({}) must be >= limits.max_body_bytes ({})",
                s.max_buffered_body_bytes, self.limits.max_body_bytes
            ));
        }
        // hyper asserts (panics) below 8 KiB.
        if c.max_header_bytes < 8192 || u32::try_from(c.max_header_bytes).is_err() {
            return invalid("connections.max_header_bytes must be in 8192..=4294967295".into());
        }
        if c.http2_max_concurrent_streams == 0 || c.http2_keep_alive_timeout_ms == 0 {
            return invalid(
                "connections.http2_max_concurrent_streams and http2_keep_alive_timeout_ms must be > 0"
                    .into(),
            );
        }
        // h2 asserts (panics) above u32::MAX.
        if c.http2_max_send_buf_bytes == 0 || u32::try_from(c.http2_max_send_buf_bytes).is_err() {
            return invalid(
                "connections.http2_max_send_buf_bytes must be in 1..=4294967295".into(),
            );
        }
        if c.idle_timeout_ms == 0 {
            return invalid("connections.idle_timeout_ms must be > 0".into());
        }
        Ok(())
    }

    /// `spool.dir` with `{port}` replaced by the listen port.
    pub fn spool_dir(&self) -> PathBuf {
        let dir = self.spool.dir.to_string_lossy();
        if dir.contains("{port}") {
            PathBuf::from(dir.replace("{port}", &self.server.listen.port().to_string()))
        } else {
            self.spool.dir.clone()
        }
    }

    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.server.body_read_timeout_ms)
    }
}

/// Environment values are TOML values when they parse as one (`42`, `true`,
/// `["a","b"]`), else plain strings (`127.0.0.1:9092`).
fn parse_env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    match keys {
        [] => Err("empty option path".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(inner) => set_path(inner, rest, value),
                _ => Err(format!("{first} is not a section")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let config = Config::from_toml_with_env("", []).unwrap();
        assert_eq!(config.limits.max_body_bytes, 512 * 1024);
        assert_eq!(config.limits.max_decompressed_bytes, 2 * 1024 * 1024);
        assert_eq!(config.limits.max_events_per_batch, 500);
        assert_eq!(config.routing.prefix, "sightline.");
        assert_eq!(config.server.collector_id, "collector");
    }

    #[test]
    fn collector_id_defaults_to_the_hostname() {
        let env = [("HOSTNAME".to_owned(), "edge-7".to_owned())];
        let config = Config::from_toml_with_env("", env.clone()).unwrap();
        assert_eq!(config.server.collector_id, "edge-7");
        let set = Config::from_toml_with_env("[server]\ncollector_id = \"c1\"\n", env).unwrap();
        assert_eq!(set.server.collector_id, "c1");
    }

    #[test]
    fn env_overrides_file_and_parses_types() {
        let file = "[limits]\nmax_body_bytes = 1000\nmax_decompressed_bytes = 5000\n";
        let env = [
            (
                "SIGHTLINE__LIMITS__MAX_BODY_BYTES".to_owned(),
                "2000".to_owned(),
            ),
            (
                "SIGHTLINE__KAFKA__BROKERS".to_owned(),
                "10.0.0.1:9092".to_owned(),
            ),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ];
        let config = Config::from_toml_with_env(file, env).unwrap();
        assert_eq!(config.limits.max_body_bytes, 2000);
        assert_eq!(config.limits.max_decompressed_bytes, 5000);
        assert_eq!(config.kafka.brokers, "10.0.0.1:9092");
    }

    #[test]
    fn unknown_options_and_bad_relations_are_refused() {
        assert!(Config::from_toml_with_env("[limits]\nmax_bdy = 1\n", []).is_err());
        let bad = "[limits]\nmax_body_bytes = 10\nmax_decompressed_bytes = 5\n";
        assert!(matches!(
            Config::from_toml_with_env(bad, []),
            Err(ConfigError::Invalid(_))
        ));
        let dup = "[[sites]]\nkey = \"a\"\n[[sites]]\nkey = \"a\"\n";
        assert!(Config::from_toml_with_env(dup, []).is_err());
    }

    #[test]
    fn spool_dir_gets_the_listen_port() {
        let config =
            Config::from_toml_with_env("[server]\nlisten = \"127.0.0.1:9000\"\n", []).unwrap();
        assert!(config.spool.enabled);
        assert_eq!(config.spool_dir(), PathBuf::from("spool/9000"));
        let bad = "[spool]\nmax_bytes = 10\nsegment_bytes = 100\n";
        assert!(matches!(
            Config::from_toml_with_env(bad, []),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn abuse_limits_with_bad_values_are_refused() {
        // That the example states every default is checked for all options by `docs`.
        for bad in [
            "[connections]\nmax_header_bytes = 4096\n",
            "[connections]\nidle_timeout_ms = 0\n",
            "[connections]\nhttp2_max_send_buf_bytes = 0\n",
            "[server]\nheader_read_timeout_ms = 0\n",
            "[server]\nmax_buffered_body_bytes = 1000\n",
        ] {
            assert!(
                matches!(
                    Config::from_toml_with_env(bad, []),
                    Err(ConfigError::Invalid(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../sightline.example.toml");
        let config = Config::from_toml_with_env(text, []).unwrap();
        let demo = config.sites.iter().find(|s| s.key == "demo").unwrap();
        assert_eq!(demo.allowed_origins.len(), 2);
        assert_eq!(config.routing.prefix, "sightline.");
    }
}
