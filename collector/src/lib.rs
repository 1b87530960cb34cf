//! Sightline's edge collector: turns untrusted browser batches into clean, keyed Kafka
//! records, answering only once Kafka acknowledged them.
//!
//! Modules, in the order a request meets them: [`http`] (server, routes, CORS, client
//! IP), [`limiters`], [`payload`] (body, inflate, decode, validate, enrich), [`routing`],
//! [`sinks`]; [`ingest`] strings them together for `POST /v1/batch`. [`config`] holds
//! the one configuration type, [`metrics`] the Prometheus registry.
//!
//! Tests and embedders use [`Collector`] (bind, then serve until a shutdown future
//! resolves) or [`run`].

pub mod config;
#[cfg(test)]
mod docs;
pub mod enrich;
pub mod error;
pub mod http;
pub mod import;
pub mod ingest;
pub mod ivt;
pub mod limiters;
pub mod metrics;
pub mod payload;
pub mod privacy;
pub mod routing;
pub mod sinks;
pub mod state;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
};

use config::Config;
use sinks::{Sink, kafka::KafkaSink, spool::SpoolSink};
use state::AppState;

pub use sightline_service::server::shutdown_signal;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Kafka(#[from] sinks::kafka::KafkaSinkError),
    #[error(transparent)]
    Bind(#[from] sightline_service::server::BindError),
    #[error("producer flush at shutdown failed: {0}")]
    Flush(sinks::SinkError),
    #[error(transparent)]
    Spool(#[from] sinks::spool::SpoolOpenError),
    #[error("enrichment database: {0}")]
    Enrich(#[from] enrich::geo::GeoError),
}

/// A bound, not yet serving collector.
pub struct Collector {
    listener: TcpListener,
    state: Arc<AppState>,
    local_addr: SocketAddr,
}

impl Collector {
    /// Binds `config.server.listen` and connects the Kafka sink, behind the durable
    /// spool when `spool.enabled`.
    pub async fn bind(config: Config) -> Result<Self, RunError> {
        let kafka: Arc<dyn Sink> = Arc::new(KafkaSink::connect(&config.kafka).await?);
        let sink: Arc<dyn Sink> = if config.spool.enabled {
            let spool = config::SpoolConfig {
                dir: config.spool_dir(),
                ..config.spool.clone()
            };
            Arc::new(SpoolSink::open(&spool, kafka)?)
        } else {
            kafka
        };
        Self::bind_with_sink(config, sink).await
    }

    /// Binds with any [`Sink`] (tests use the in-memory one).
    pub async fn bind_with_sink(config: Config, sink: Arc<dyn Sink>) -> Result<Self, RunError> {
        let (listener, local_addr) = sightline_service::server::bind(config.server.listen).await?;
        Ok(Self {
            listener,
            state: Arc::new(AppState::new(config, sink)?),
            local_addr,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then: `/readyz` → 503, keep serving for
    /// `shutdown.readiness_grace_ms`, stop accepting, let in-flight requests finish
    /// (at most `drain_timeout_ms`), flush the producer (at most `flush_timeout_ms`).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
        let Collector {
            listener, state, ..
        } = self;
        let config = &state.config;
        let max_connections = config.server.max_connections;
        let (drain_tx, draining) = watch::channel(false);
        let shared = Arc::new(http::server::Shared {
            builder: http::server::builder(config),
            connections: Arc::new(Semaphore::new(max_connections)),
            draining,
            state: state.clone(),
        });
        let cleanup = tokio::spawn({
            let state = state.clone();
            let every = Duration::from_secs(config.rate_limits.cleanup_interval_s.max(1));
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    state.limiters.forget_idle();
                    state.sivt.forget_idle(ingest::now_ms());
                }
            }
        });
        // Enrichment databases are re-read when their files change (a blocking read of
        // tens of MiB: off the async workers).
        let reload = state.enricher.has_databases().then(|| {
            let state = state.clone();
            let every = Duration::from_millis(config.enrich.reload_interval_ms);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let state = state.clone();
                    let _ =
                        tokio::task::spawn_blocking(move || state.enricher.reload_changed()).await;
                }
            })
        });
        tracing::info!(addr = %self.local_addr, "collector listening");

        sightline_service::server::accept_through_grace(
            listener,
            shutdown,
            Duration::from_millis(config.shutdown.readiness_grace_ms),
            || {
                tracing::info!("shutdown requested: readyz now 503");
                state.start_draining();
            },
            http::server::Acceptor(&shared),
        )
        .await;

        // Every connection finishes its requests and closes; all connection permits
        // back means all are gone (each is cut at the latest after the drain time).
        let _ = drain_tx.send(true);
        let drain = Duration::from_millis(config.shutdown.drain_timeout_ms);
        let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
        if tokio::time::timeout(drain, shared.connections.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(?drain, "in-flight requests did not finish in time");
        }
        cleanup.abort();
        if let Some(reload) = reload {
            reload.abort();
        }
        let flush = Duration::from_millis(config.shutdown.flush_timeout_ms);
        state.sink.flush(flush).await.map_err(RunError::Flush)?;
        tracing::info!("collector stopped cleanly");
        Ok(())
    }
}

/// Binds, connects Kafka and serves until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
    Collector::bind(config).await?.serve(shutdown).await
}
