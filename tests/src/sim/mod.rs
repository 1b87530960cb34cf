//! Simulated students for issue 22's A/B proof (`make test-personalization`).
//!
//! Students with known hidden interests browse, search and see ads through the real HTTP
//! endpoints: the collector's `POST /v1/batch` (protobuf `Batch`es, as the SDK sends them)
//! and the decision service's `POST /v1/decide`. It is a simulator, not browsers: thousands
//! of sessions in a minute on two cores, where Playwright would need a browser per session
//! (seconds each); the browser path itself is proven by the e2e and browser suites, and
//! the bytes sent here are the same messages the SDK builds.
//!
//! Deterministic for a seed: every student draws from their own RNG (seed, student index),
//! so concurrency does not change what a student does. What the decision service serves
//! depends on timing (profile freshness, exploration), which is why the ground truth is
//! computed from the creatives actually served, not assumed.

pub mod batches;
pub mod catalogue;
pub mod decide;
pub mod freshness;
pub mod model;
pub mod run;
pub mod truth;
