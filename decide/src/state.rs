//! What every request handler shares.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::Semaphore;

use crate::{config::Config, decision::Decider, decision_log::DecisionLog, metrics::Metrics};

pub struct AppState {
    pub config: Config,
    pub decider: Decider,
    pub metrics: Arc<Metrics>,
    /// Permits for decisions in progress (`server.max_in_flight_requests`).
    pub in_flight: Arc<Semaphore>,
    /// The decision log producer; `None` with `kafka.log_decisions = false`.
    pub log: Option<DecisionLog>,
    /// Set by the consumer once it reached the end offsets the topics had at start.
    pub caught_up: Arc<AtomicBool>,
    draining: AtomicBool,
}

impl AppState {
    pub fn new(
        config: Config,
        decider: Decider,
        metrics: Arc<Metrics>,
        log: Option<DecisionLog>,
        caught_up: Arc<AtomicBool>,
    ) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(config.server.max_in_flight_requests)),
            config,
            decider,
            metrics,
            log,
            caught_up,
            draining: AtomicBool::new(false),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.caught_up.load(Ordering::SeqCst) && !self.draining.load(Ordering::SeqCst)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}
