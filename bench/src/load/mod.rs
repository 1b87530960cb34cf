//! The load generator's engine: keep-alive connections, an open-loop schedule (or a
//! closed loop for finding saturation), and latency statistics.

pub mod connection;
pub mod run;
pub mod stats;

pub use run::{LoadConfig, Pacing, run};
pub use stats::LoadReport;
