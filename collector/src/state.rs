//! What every request handler shares.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::{
    config::{Config, OriginPattern},
    enrich::{Enricher, geo::GeoError},
    http::cors::origin_allowed,
    ivt::sivt::Sivt,
    limiters::{Limiters, concurrency::PerAddressSlots},
    metrics::Metrics,
    privacy::Privacy,
    routing::Router,
    sinks::Sink,
};

pub struct AppState {
    pub config: Config,
    /// Site key → allowed origins.
    pub sites: HashMap<String, Vec<OriginPattern>>,
    pub limiters: Limiters,
    pub router: Router,
    pub sink: Arc<dyn Sink>,
    pub metrics: Metrics,
    /// Permits for processing `POST /v1/batch` once its body is in
    /// (`server.max_in_flight_requests`).
    pub in_flight: Arc<Semaphore>,
    /// `POST /v1/batch` in progress per client address
    /// (`server.max_in_flight_requests_per_ip`).
    pub in_flight_per_ip: PerAddressSlots,
    /// One permit per body byte held (`server.max_buffered_body_bytes`).
    pub body_budget: Arc<Semaphore>,
    /// Open connections per client address (`connections.max_per_ip`).
    pub connections_per_ip: PerAddressSlots,
    /// Device, geo and network facts per request (`enrich`).
    pub enricher: Enricher,
    /// Per-user and per-address state of the SIVT rules (`ivt::sivt`).
    pub sivt: Sivt,
    /// Identity modes, visitor ids and PII scrubbing (`privacy`).
    pub privacy: Privacy,
    draining: AtomicBool,
}

impl AppState {
    /// Fails when a configured enrichment database cannot be loaded.
    pub fn new(config: Config, sink: Arc<dyn Sink>) -> Result<Self, GeoError> {
        let sites = config
            .sites
            .iter()
            .map(|s| (s.key.clone(), s.allowed_origins.clone()))
            .collect();
        let mut metrics = Metrics::new();
        sink.register_metrics(metrics.registry_mut());
        Ok(Self {
            enricher: Enricher::new(&config.enrich)?,
            sivt: Sivt::new(&config.ivt),
            privacy: Privacy::new(&config.privacy),
            limiters: Limiters::new(&config.rate_limits),
            router: Router::new(&config.routing),
            sites,
            sink,
            metrics,
            in_flight: Arc::new(Semaphore::new(config.server.max_in_flight_requests)),
            in_flight_per_ip: PerAddressSlots::new(config.server.max_in_flight_requests_per_ip),
            body_budget: Arc::new(Semaphore::new(
                config
                    .server
                    .max_buffered_body_bytes
                    .min(Semaphore::MAX_PERMITS),
            )),
            connections_per_ip: PerAddressSlots::new(config.connections.max_per_ip),
            draining: AtomicBool::new(false),
            config,
        })
    }

    /// Whether `origin` may send for `site` (`None`: for any configured site).
    pub fn origin_allowed(&self, site: Option<&str>, origin: &str) -> bool {
        match site {
            Some(site) => self
                .sites
                .get(site)
                .is_some_and(|p| origin_allowed(p, origin)),
            None => self.sites.values().any(|p| origin_allowed(p, origin)),
        }
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn kafka_retry_after(&self) -> Duration {
        Duration::from_secs(self.config.kafka.retry_after_s)
    }
}
