//! Shared harness for Sightline's integration tests.
//!
//! Every test here talks to the real Apache Kafka broker that `make test` starts with
//! `scripts/kafka.sh up` and announces in `SIGHTLINE_KAFKA`; none of them fakes it.

pub mod cluster;
pub mod collector;
pub mod import;
pub mod kafka;
pub mod murmur2;
pub mod raw;
pub mod reliability;
pub mod sim;
