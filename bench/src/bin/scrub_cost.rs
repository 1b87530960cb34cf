//! The collector's PII scrubbing cost per event (issue 18, `collector/src/privacy/scrub.rs`):
//! realistic event texts, with and without PII, scrubbed in a loop; prints ns per event and
//! per KB as one JSON line. `cargo run --release -p sightline-bench --bin scrub-cost`.

use std::{hint::black_box, time::Instant};

use sightline_collector::privacy::scrub::{Detectors, Redactions, scrub};

/// (what, text): what the collector scrubs in an event (url, search query, custom string).
const TEXTS: &[(&str, &str)] = &[
    (
        "url_clean",
        "https://campus.example/courses/cs101-data-structures?utm_source=newsletter&utm_campaign=dec",
    ),
    (
        "search_clean",
        "gate 2027 previous year papers with solutions ₹4,999.00",
    ),
    (
        "custom_clean",
        "MATH-2024 enrolment confirmed for batch 2026-12-03, order 482910375615",
    ),
    (
        "search_pii",
        "refund for asha.k@example.in call +91 98765 43210 pan ABCPE1234F",
    ),
    (
        "custom_pii",
        "paid with 4111 1111 1111 1111, aadhaar 4991 1866 5246",
    ),
];

fn main() {
    let detectors = Detectors::default();
    let rounds = 200_000u32;
    let mut results = serde_json::Map::new();
    for (what, text) in TEXTS {
        let mut found = Redactions::default();
        // Warm up, then time.
        for _ in 0..10_000 {
            black_box(scrub(black_box(text), &detectors, &mut found));
        }
        let started = Instant::now();
        for _ in 0..rounds {
            black_box(scrub(black_box(text), &detectors, &mut found));
        }
        let ns = started.elapsed().as_nanos() as f64 / f64::from(rounds);
        results.insert(
            (*what).to_owned(),
            serde_json::json!({
                "bytes": text.len(),
                "ns_per_text": (ns * 10.0).round() / 10.0,
                "ns_per_kb": (ns / text.len() as f64 * 1024.0).round(),
                "redactions": found.total() / (rounds + 10_000),
            }),
        );
    }
    println!("{}", serde_json::Value::Object(results));
}
