//! A Prometheus registry as the text a `/metrics` scrape gets. Each service keeps its own
//! families, prefix and `Content-Type`.

use prometheus_client::{encoding::text::encode, registry::Registry};

/// Encodes every family of `registry`. Writing into a `String` cannot fail; an error here
/// would be a bug in the encoder, so it is logged (under this crate's target: the line
/// is not expected to ever be written) and the text so far is served rather than failing
/// the scrape.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    if let Err(err) = encode(&mut out, registry) {
        tracing::error!(%err, "encoding metrics failed");
    }
    out
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::counter::Counter;

    use super::*;

    #[test]
    fn renders_prefixed_families_with_help() {
        let mut registry = Registry::with_prefix("sightline_test");
        let counter = Counter::<u64>::default();
        registry.register("requests", "Requests answered", counter.clone());
        counter.inc();
        let text = render(&registry);
        assert!(text.contains("# HELP sightline_test_requests Requests answered."));
        assert!(text.contains("sightline_test_requests_total 1"));
        assert!(text.ends_with("# EOF\n"));
    }
}
