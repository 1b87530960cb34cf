//! `POST /v1/batch`, end to end for a resolved client address: apply limits, read the
//! body (then take a processing slot) and decode it, validate and enrich, route, and
//! wait for the sink's acknowledgement.

use std::{
    net::IpAddr,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{HeaderMap, header};
use hyper::body::Body;
use tokio::sync::SemaphorePermit;

use crate::{
    error::ApiError,
    ivt,
    limiters::{LIMITER_HOT_USER, LIMITER_IP, LIMITER_SITE, UserVerdict},
    payload::{
        self, RequestFacts,
        body::{Buffered, read_limited},
        decompress,
        enrich::truncate_ip,
    },
    sinks::SinkError,
    state::AppState,
};

/// Counts of a successful request (the JSON answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub accepted: usize,
    pub rejected: usize,
}

/// The result plus the site it was for, when known (for CORS headers).
pub struct Outcome {
    pub site: Option<String>,
    pub result: Result<Summary, ApiError>,
}

/// Content types a browser may send without a CORS preflight or with sendBeacon.
const ACCEPTED_CONTENT_TYPES: &[&str] = &[
    "application/x-protobuf",
    "application/octet-stream",
    "text/plain",
];

pub fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of `?site=` in a query string.
pub fn site_from_query(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "site")
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("");
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ACCEPTED_CONTENT_TYPES.contains(&media.as_str()) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            text.chars().take(64).collect(),
        ))
    }
}

/// The collector's clock (ms since the Unix epoch): the one time source of the request path.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A request body read under every limit and inflated, with what it holds until dropped:
/// its bytes of the shared body budget and a processing slot.
pub struct RequestBody<'a> {
    pub bytes: Bytes,
    _buffered: Buffered,
    _processing: SemaphorePermit<'a>,
}

/// The body steps both ingestion paths share, in order: the encoding, the declared length
/// (refused before a byte is read), the read (bounded in size, time and shared budget),
/// only then a processing slot (slow senders never hold one), the empty check and the
/// bounded gunzip.
pub async fn read_body<'a, B>(
    state: &'a AppState,
    headers: &HeaderMap,
    body: &mut B,
) -> Result<RequestBody<'a>, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let config = &state.config;
    let limits = &config.limits;
    let encoding = decompress::parse_encoding(header_str(headers, header::CONTENT_ENCODING))?;
    let declared_len =
        header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > limits.max_body_bytes as u64) {
        return Err(ApiError::BodyTooLarge {
            limit: limits.max_body_bytes,
        });
    }
    let (raw, buffered) = read_limited(
        body,
        limits.max_body_bytes,
        config.body_read_timeout(),
        &state.body_budget,
    )
    .await?;
    let Ok(processing) = state.in_flight.try_acquire() else {
        return Err(ApiError::Overloaded);
    };
    if raw.is_empty() {
        return Err(ApiError::EmptyBody);
    }
    let bytes = match encoding {
        decompress::Encoding::Identity => raw,
        decompress::Encoding::Gzip => Bytes::from(decompress::inflate_gzip(
            &raw,
            limits.max_decompressed_bytes,
        )?),
    };
    Ok(RequestBody {
        bytes,
        _buffered: buffered,
        _processing: processing,
    })
}

/// `client` is the resolved client address (the route's job, `http::client_ip`: socket or
/// PROXY peer, or a trusted proxy's forwarded hop), in full: it keys the per-IP limiter and
/// is truncated here before anything leaves the process.
pub async fn handle_batch<B>(
    state: &AppState,
    client: IpAddr,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &mut B,
) -> Outcome
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let query_site = site_from_query(query).map(str::to_owned);
    let mut outcome = Outcome {
        site: query_site.clone(),
        result: Err(ApiError::EmptyBody),
    };
    outcome.result = ingest(
        state,
        client,
        query_site.as_deref(),
        headers,
        body,
        &mut outcome.site,
    )
    .await;
    outcome
}

async fn ingest<B>(
    state: &AppState,
    client: IpAddr,
    query_site: Option<&str>,
    headers: &HeaderMap,
    body: &mut B,
    site_out: &mut Option<String>,
) -> Result<Summary, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let received_at_ms = now_ms();
    let config = &state.config;
    let limits = &config.limits;
    state
        .limiters
        .check_ip(client)
        .map_err(|retry_after| ApiError::RateLimited {
            limiter: LIMITER_IP,
            retry_after,
        })?;

    // Refuse what we can before reading the body.
    let origin = header_str(headers, header::ORIGIN);
    if origin.is_none() && config.server.require_origin {
        return Err(ApiError::MissingOrigin);
    }
    if let Some(site) = query_site {
        check_site(state, site, origin)?;
    }
    check_content_type(headers)?;
    let body = read_body(state, headers, body).await?;
    let mut batch = payload::decode(&body.bytes)?;

    let site = match (query_site, batch.site_key.as_str()) {
        (Some(q), b) if !b.is_empty() && q != b => {
            return Err(ApiError::SiteKeyMismatch {
                query: q.to_owned(),
                batch: b.chars().take(64).collect(),
            });
        }
        (Some(q), _) => q.to_owned(),
        (None, b) => {
            check_site(state, b, origin)?;
            b.to_owned()
        }
    };
    *site_out = Some(site.clone());
    // Records carry the site the request was authorised for (a batch authorised by
    // `?site=` alone has an empty `site_key`; ClickHouse keys on it).
    batch.site_key.clone_from(&site);

    if batch.events.len() > limits.max_events_per_batch {
        return Err(ApiError::TooManyEvents {
            count: batch.events.len(),
            limit: limits.max_events_per_batch,
        });
    }
    state
        .limiters
        .check_site(&site, batch.events.len())
        .map_err(|retry_after| ApiError::RateLimited {
            limiter: LIMITER_SITE,
            retry_after,
        })?;
    let user_agent: String = header_str(headers, header::USER_AGENT)
        .unwrap_or("")
        .chars()
        .take(limits.max_user_agent_len)
        .collect();
    // Privacy (issue 18): the mode is enforced on the decoded batch, before anything is
    // keyed by user; the visitor id needs the full address, which is truncated below.
    let enforcement = state
        .privacy
        .enforce(&mut batch, &site, client, &user_agent, received_at_ms);
    let verdict = state
        .limiters
        .check_user(enforcement.user_key(&batch), batch.events.len());
    if let UserVerdict::Refuse(retry_after) = verdict {
        return Err(ApiError::RateLimited {
            limiter: LIMITER_HOT_USER,
            retry_after,
        });
    }

    let facts = RequestFacts {
        received_at_ms,
        client_ip: truncate_ip(client, limits.ipv4_prefix, limits.ipv6_prefix).to_string(),
        user_agent,
        collector_id: config.server.collector_id.clone(),
    };
    let evicted_batches = batch.evicted_batches;
    // Enrichment and the request's GIVT reasons need the full address and agent: here,
    // before anything leaves the process (the records carry the truncated address).
    let enrichment = state.enricher.enrich(client, &facts.user_agent);
    let request_ivt = ivt::classify::request(
        &enrichment,
        &facts.user_agent,
        batch.signals.as_ref(),
        headers,
    );
    let mut processed = payload::process(batch, &facts, limits);
    let privacy = enforcement.finish(&state.privacy, &mut processed);
    enrichment.apply(&mut processed.shared);
    ivt::classify_batch(
        &state.sivt,
        request_ivt,
        &mut processed,
        client,
        received_at_ms,
    );
    if let Some(skew) = processed.clock_skew_ms {
        state
            .metrics
            .clock_skew
            .observe(skew.unsigned_abs() as f64 / 1000.0);
    }
    let overflow = verdict == UserVerdict::Overflow && !processed.accepted.is_empty();
    let records = state.router.route(&processed, &site, overflow);

    let started = Instant::now();
    let delivered = if records.is_empty() {
        Ok(())
    } else {
        state.sink.deliver(&records).await
    };
    match delivered {
        Ok(()) => state
            .metrics
            .ack_latency
            .observe(started.elapsed().as_secs_f64()),
        Err(SinkError::QueueFull) => return Err(ApiError::QueueFull),
        Err(SinkError::SpoolFull) => return Err(ApiError::SpoolFull),
        Err(SinkError::Delivery(detail)) => return Err(ApiError::KafkaUnavailable(detail)),
    }

    state.metrics.count_privacy(&privacy);
    for event in &processed.accepted {
        let kind = sightline_proto::v1::EventKind::try_from(event.kind).unwrap_or_default();
        state.metrics.count_accepted(kind.name(), 1);
        state.metrics.count_ivt(event.ivt);
    }
    if overflow {
        state
            .metrics
            .events_overflowed
            .inc_by(processed.accepted.len() as u64);
        state.metrics.count_rate_limited(LIMITER_HOT_USER);
    }
    for rejected in &processed.rejected {
        state.metrics.count_rejected(&rejected.reason, 1);
    }
    // A report above the limit is no SDK's (not believed, not counted); 0 is nothing to count.
    let limit = limits.max_evicted_batches_reported;
    if evicted_batches > limit {
        tracing::debug!(%site, evicted_batches, limit, "evicted_batches above the limit, not counted");
    } else if evicted_batches > 0 {
        state.metrics.count_client_evicted(&site, evicted_batches);
    }
    Ok(Summary {
        accepted: processed.accepted.len(),
        rejected: processed.rejected.len(),
    })
}

fn check_site(state: &AppState, site: &str, origin: Option<&str>) -> Result<(), ApiError> {
    if !state.sites.contains_key(site) {
        return Err(ApiError::UnknownSite(site.chars().take(64).collect()));
    }
    match origin {
        Some(origin) if !state.origin_allowed(Some(site), origin) => Err(
            ApiError::OriginNotAllowed(origin.chars().take(128).collect()),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Config, sinks::memory::MemorySink};
    use http::HeaderValue;
    use http_body_util::Full;
    use prost::Message;
    use sightline_proto::v1::{
        Batch, CollectedEvent, Event, Identity, RejectedEvent, Search, event::Kind,
    };
    use std::sync::Arc;

    fn state(sink: MemorySink) -> AppState {
        let config = Config::from_toml_with_env(
            "[[sites]]\nkey = \"demo\"\nallowed_origins = [\"http://localhost:*\"]\n",
            [],
        )
        .unwrap();
        AppState::new(config, Arc::new(sink)).unwrap()
    }

    fn batch(n: usize) -> Batch {
        Batch {
            site_key: "demo".into(),
            sent_at_ms: now_ms(),
            identity: Some(Identity {
                anonymous_id: "anon".into(),
                ..Default::default()
            }),
            events: (0..n)
                .map(|i| Event {
                    event_id: vec![i as u8; 16],
                    client_ts_ms: now_ms(),
                    kind: Some(Kind::Search(Search {
                        query: format!("q{i}"),
                        results_count: 1,
                    })),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// The events of a record, through the reader every consumer uses.
    fn collected(record: &crate::sinks::Record) -> Vec<CollectedEvent> {
        let layout = record.headers.layout.as_deref().map(str::as_bytes);
        sightline_proto::record::read_record(
            [(crate::sinks::RecordHeaders::LAYOUT, layout)],
            &record.payload,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    async fn post(
        state: &AppState,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Outcome {
        handle_batch(
            state,
            "192.0.2.10".parse().unwrap(),
            query,
            headers,
            &mut Full::new(Bytes::from(body)),
        )
        .await
    }

    #[tokio::test]
    async fn accepted_events_reach_the_sink_keyed_and_enriched() {
        let sink = MemorySink::new();
        let state = state(sink.clone());
        let out = post(&state, None, &HeaderMap::new(), batch(3).encode_to_vec()).await;
        assert_eq!(
            out.result.unwrap(),
            Summary {
                accepted: 3,
                rejected: 0
            }
        );
        // One record per request (layout v2), every event in it.
        let records = sink.records();
        assert_eq!(records.len(), 1);
        assert_eq!(&*records[0].topic, "sightline.events");
        assert_eq!(records[0].key.as_deref(), Some("anon"));
        let events = collected(&records[0]);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].client_ip, "192.0.2.0");
        assert_eq!(events[2].user_key, "anon");
    }

    #[tokio::test]
    async fn a_batch_authorised_by_query_site_alone_carries_that_site_in_every_record() {
        let sink = MemorySink::new();
        let state = state(sink.clone());
        let mut unsigned = batch(2);
        unsigned.site_key.clear();
        unsigned.events[1].event_id.clear(); // → dead letter
        let out = post(
            &state,
            Some("site=demo"),
            &HeaderMap::new(),
            unsigned.encode_to_vec(),
        )
        .await;
        assert_eq!(
            out.result.unwrap(),
            Summary {
                accepted: 1,
                rejected: 1
            }
        );
        let records = sink.records();
        assert_eq!(records.len(), 2);
        for record in &records {
            assert_eq!(record.headers.site, "demo");
            let site_key = if record.topic.ends_with("rejected") {
                RejectedEvent::decode(record.payload.as_slice())
                    .unwrap()
                    .site_key
            } else {
                collected(record).remove(0).site_key
            };
            assert_eq!(site_key, "demo", "{}", record.topic);
        }
    }

    #[tokio::test]
    async fn refusals_before_and_after_the_body() {
        let sink = MemorySink::new();
        let state = state(sink.clone());
        let mut headers = HeaderMap::new();
        assert_eq!(
            post(&state, Some("site=nope"), &headers, vec![])
                .await
                .result
                .unwrap_err()
                .code(),
            "unknown_site"
        );
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert_eq!(
            post(
                &state,
                Some("site=demo"),
                &headers,
                batch(1).encode_to_vec()
            )
            .await
            .result
            .unwrap_err()
            .code(),
            "origin_not_allowed"
        );
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:3000"),
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert_eq!(
            post(&state, None, &headers, batch(1).encode_to_vec())
                .await
                .result
                .unwrap_err()
                .code(),
            "unsupported_media_type"
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=UTF-8"),
        );
        assert_eq!(
            post(&state, None, &headers, batch(501).encode_to_vec())
                .await
                .result
                .unwrap_err()
                .code(),
            "too_many_events"
        );
        let mut other = batch(1);
        other.site_key = "other".into();
        assert_eq!(
            post(&state, Some("site=demo"), &headers, other.encode_to_vec())
                .await
                .result
                .unwrap_err()
                .code(),
            "site_key_mismatch"
        );
        assert!(sink.records().is_empty());
    }

    #[tokio::test]
    async fn sink_failure_is_503_queue_full() {
        let sink = MemorySink::new();
        sink.set_failing(true);
        let state = state(sink);
        let err = post(&state, None, &HeaderMap::new(), batch(1).encode_to_vec())
            .await
            .result
            .unwrap_err();
        assert_eq!(err.code(), "queue_full");
        assert_eq!(err.status(), 503);
    }

    #[tokio::test]
    async fn reported_evictions_count_only_for_accepted_batches_within_the_limit() {
        let sink = MemorySink::new();
        let state = state(sink.clone());
        let evicted = |n: u32| {
            let mut b = batch(1);
            b.evicted_batches = n;
            b.encode_to_vec()
        };
        let metric = |state: &AppState| {
            state
                .metrics
                .render()
                .lines()
                .find(|l| l.starts_with("sightline_collector_client_evicted_batches_total{"))
                .map(str::to_owned)
        };
        let headers = HeaderMap::new();
        assert!(
            post(&state, None, &headers, evicted(0))
                .await
                .result
                .is_ok()
        );
        assert_eq!(metric(&state), None, "0 is nothing to count: no series");
        assert!(
            post(&state, None, &headers, evicted(4))
                .await
                .result
                .is_ok()
        );
        let limit = state.config.limits.max_evicted_batches_reported;
        // At the limit counts; above it (up to u32::MAX) does not.
        for reported in [limit, limit + 1, u32::MAX] {
            assert!(
                post(&state, None, &headers, evicted(reported))
                    .await
                    .result
                    .is_ok()
            );
        }
        sink.set_failing(true);
        assert!(
            post(&state, None, &headers, evicted(5))
                .await
                .result
                .is_err()
        );
        assert_eq!(
            metric(&state).as_deref(),
            Some(
                format!(
                    "sightline_collector_client_evicted_batches_total{{site=\"demo\"}} {}",
                    4 + limit
                )
                .as_str()
            )
        );
    }

    #[test]
    fn query_site() {
        assert_eq!(site_from_query(Some("a=1&site=demo")), Some("demo"));
        assert_eq!(site_from_query(Some("site=")), None);
        assert_eq!(site_from_query(None), None);
    }
}
