//! What Sightline's HTTP services (`sightline-collector`, `sightline-decide`) share: the
//! scaffolding that is the same logic in both, not their request handling.
//!
//! [`logging`] sets up `tracing` from `[log]`, [`response`] builds small HTTP answers,
//! [`server`] binds, runs the accept loop through the readiness grace and listens for
//! SIGTERM, [`metrics`] renders a Prometheus registry as text, [`config`] reads the TOML
//! file and [`runtime`] runs a service's future as a binary's `main`.
//!
//! Each service keeps its own configuration types, errors, routes, metric families and
//! drain: they differ between the two (see each crate's README).

pub mod config;
pub mod logging;
pub mod metrics;
pub mod response;
pub mod runtime;
pub mod server;
