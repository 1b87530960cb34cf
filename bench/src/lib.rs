//! Sightline's benchmarks: a load generator and the two ceilings the collector is
//! measured against (a bare hyper server, a raw rdkafka producer), plus the report.
//! `make bench` (scripts/bench.sh) runs them side by side on one machine.

pub mod bodies;
pub mod collector_path;
pub mod cpu;
pub mod json_baseline;
pub mod layouts;
pub mod load;
pub mod profile;
pub mod report;
pub mod results;
pub mod target;
pub mod workload;
