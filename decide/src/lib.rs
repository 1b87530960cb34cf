//! `sightline-decide`: real-time interest profiles from the collector's Kafka topics and
//! ad decisions over HTTP (decide/README.md).
//!
//! Modules: [`consumer`] reads every partition of the event topics and folds profiled
//! events ([`signals`]: events → subjects and the write-side privacy rule) into the
//! [`profiles`] store ([`interests`]: decayed scores); [`routes`] answers
//! `POST /v1/decide` with [`request`] (validation and the read-side privacy rule) →
//! [`decision`] (policies, [`experiment`] variants, [`catalogue`]) → [`decision_log`].

pub mod catalogue;
pub mod config;
pub mod consumer;
pub mod decision;
pub mod decision_log;
pub mod error;
pub mod experiment;
pub mod interests;
mod lru;
pub mod metrics;
pub mod profiles;
pub mod request;
pub mod response;
pub mod routes;
pub mod server;
pub mod signals;
pub mod state;
pub mod time;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use hyper_util::server::graceful::GracefulShutdown;
use tokio::{net::TcpListener, sync::Semaphore};

use crate::{
    catalogue::{CatalogueError, CatalogueHandle},
    config::Config,
    decision::Decider,
    decision_log::DecisionLog,
    metrics::{Metrics, OutcomeLabel},
    profiles::ProfileStore,
    state::AppState,
    time::{SystemTime, TimeSource},
};

pub use sightline_service::server::shutdown_signal;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Bind(#[from] sightline_service::server::BindError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error("Kafka client: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// A bound, not yet serving decision service.
pub struct DecideService {
    listener: TcpListener,
    state: Arc<AppState>,
    local_addr: SocketAddr,
}

impl DecideService {
    /// Binds, loads the catalogue, connects the decision log (unless disabled) and starts
    /// the profile consumer. `time`: the clock of decay and caps (tests inject theirs).
    pub async fn bind(config: Config, time: Arc<dyn TimeSource>) -> Result<Self, RunError> {
        let (listener, local_addr) = sightline_service::server::bind(config.server.listen).await?;
        let catalogue = Arc::new(CatalogueHandle::open(&config.catalogue.path)?);
        let profiles = Arc::new(ProfileStore::new(&config.profiles));
        let metrics = Arc::new(Metrics::new());
        let decider_id = std::env::var("HOSTNAME").unwrap_or_else(|_| "sightline-decide".into());
        let log = if config.kafka.log_decisions {
            Some(
                DecisionLog::connect(&config.kafka, metrics.clone(), decider_id)?
                    .with_experiment(&config.experiment),
            )
        } else {
            None
        };
        let caught_up = Arc::new(AtomicBool::new(false));
        consumer::spawn(
            &config,
            catalogue.clone(),
            profiles.clone(),
            metrics.clone(),
            caught_up.clone(),
            time.clone(),
        )?;
        let decider = Decider {
            catalogue,
            profiles,
            time,
            experiment: config.experiment.clone(),
        };
        let state = Arc::new(AppState::new(config, decider, metrics, log, caught_up));
        Ok(Self {
            listener,
            state,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves, then: `/readyz` → 503 for
    /// `shutdown.readiness_grace_ms`, stop accepting, let connections finish (at most
    /// `drain_timeout_ms`), flush the decision log (at most `flush_timeout_ms`).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let DecideService {
            listener, state, ..
        } = self;
        let builder = server::builder(&state);
        let graceful = GracefulShutdown::new();
        let connections = Arc::new(Semaphore::new(state.config.server.max_connections));
        let reload = (state.config.catalogue.reload_interval_ms > 0).then(|| {
            let state = state.clone();
            let every = Duration::from_millis(state.config.catalogue.reload_interval_ms);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let catalogue = state.decider.catalogue.clone();
                    let outcome =
                        tokio::task::spawn_blocking(move || catalogue.reload_if_changed()).await;
                    let label = match outcome {
                        Ok(Ok(false)) | Err(_) => continue,
                        Ok(Ok(true)) => "ok",
                        Ok(Err(err)) => {
                            tracing::warn!(%err, "catalogue changed but is invalid: old one kept");
                            "invalid"
                        }
                    };
                    state
                        .metrics
                        .catalogue_reloads
                        .get_or_create(&OutcomeLabel { outcome: label })
                        .inc();
                }
            })
        });
        tracing::info!(addr = %self.local_addr, "sightline-decide listening");
        sightline_service::server::accept_through_grace(
            listener,
            shutdown,
            Duration::from_millis(state.config.shutdown.readiness_grace_ms),
            || {
                tracing::info!("shutdown requested: readyz now 503");
                state.start_draining();
            },
            server::Acceptor {
                state: &state,
                builder: &builder,
                graceful: &graceful,
                connections: &connections,
            },
        )
        .await;
        let drain = Duration::from_millis(state.config.shutdown.drain_timeout_ms);
        if tokio::time::timeout(drain, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(?drain, "connections did not close in time");
        }
        if let Some(reload) = reload {
            reload.abort();
        }
        if state.log.is_some() {
            // librdkafka's flush blocks: off the async workers.
            let flush = Duration::from_millis(state.config.shutdown.flush_timeout_ms);
            let state = state.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(log) = &state.log {
                    log.flush(flush);
                }
            })
            .await;
        }
        tracing::info!("sightline-decide stopped cleanly");
    }
}

/// Binds and serves until `shutdown` resolves, on the system clock.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
    DecideService::bind(config, Arc::new(SystemTime))
        .await?
        .serve(shutdown)
        .await;
    Ok(())
}
