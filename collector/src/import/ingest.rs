//! A JSON import request end to end, for a resolved client address: per-IP limit, write
//! key (401 before the body is read), body (size, time, budget), processing slot, gunzip,
//! bounded decode, count and per-source/per-site limits, then each message mapped,
//! validated, enriched and routed like a browser event (one record per message), and
//! the answer only once the sink made every record durable.

use std::{net::IpAddr, time::Instant};

use bytes::Bytes;
use http::{HeaderMap, header};
use hyper::body::Body;
use sightline_proto::v1::{EventKind, EventSource, RejectedEvent};

use super::{
    Shape, auth,
    json::{self},
    mapping::{self, Mapped, RequestContext},
};
use crate::{
    config::{SourceConfig, SourceKind},
    enrich::Enrichment,
    error::ApiError,
    ingest::{Summary, header_str, now_ms, read_body},
    limiters::{LIMITER_HOT_USER, LIMITER_IP, LIMITER_SITE, LIMITER_SOURCE, UserVerdict},
    payload::{self, Processed, RequestFacts, enrich::truncate_ip},
    sinks::SinkError,
    state::AppState,
};

/// Outcome labels of `import_messages_total`.
pub const OUTCOME_ACCEPTED: &str = "accepted";
pub const OUTCOME_REJECTED: &str = "rejected";

/// `POST` of an import path (or `/v1/batch` with a write key). `client` is the full
/// resolved address: it keys the per-IP limiter and is truncated before use.
pub async fn handle_import<B>(
    state: &AppState,
    client: IpAddr,
    shape: Shape,
    headers: &HeaderMap,
    body: &mut B,
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
    let source = auth::write_key(headers.get(header::AUTHORIZATION))
        .and_then(|key| auth::find(&config.sources, &key))
        .ok_or(ApiError::Unauthorized)?;
    let body = read_body(state, headers, body).await?;
    let request = json::decode(&body.bytes, shape, config.import.max_depth)?;
    let count = request.messages.len();
    if count > limits.max_events_per_batch {
        return Err(ApiError::TooManyEvents {
            count,
            limit: limits.max_events_per_batch,
        });
    }
    state
        .limiters
        .check_source(&source.name, count)
        .map_err(|retry_after| ApiError::RateLimited {
            limiter: LIMITER_SOURCE,
            retry_after,
        })?;
    state
        .limiters
        .check_site(&source.site, count)
        .map_err(|retry_after| ApiError::RateLimited {
            limiter: LIMITER_SITE,
            retry_after,
        })?;

    let header_agent: String = header_str(headers, header::USER_AGENT)
        .unwrap_or("")
        .chars()
        .take(limits.max_user_agent_len)
        .collect();
    let context = RequestContext {
        site: &source.site,
        received_at_ms,
        sent_at: request.sent_at.as_ref(),
        context: request.context.as_ref(),
        default_type: match shape {
            Shape::Single(t) => Some(t),
            Shape::Batch => None,
        },
        trust_client_ip: source.trust_client_ip,
    };
    let mut records = Vec::with_capacity(count);
    let mut accepted_kinds = Vec::with_capacity(count);
    let mut rejected_reasons = Vec::new();
    let mut overflowed = 0u64;
    let mut hot_refusal = None;
    let mut privacy_reports = Vec::with_capacity(count);
    for message in &request.messages {
        let processed = match mapping::map(message, &context, limits) {
            Ok(mut mapped) => {
                // Privacy (issue 18) on the mapped message, as for a browser batch.
                let address = mapped.client_ip.unwrap_or(client);
                let agent = mapped.user_agent.as_deref().unwrap_or(&header_agent);
                let enforcement = state.privacy.enforce(
                    &mut mapped.batch,
                    &source.site,
                    address,
                    agent,
                    received_at_ms,
                );
                let facts = RequestFacts {
                    received_at_ms,
                    client_ip: truncate_ip(
                        mapped.client_ip.unwrap_or(client),
                        limits.ipv4_prefix,
                        limits.ipv6_prefix,
                    )
                    .to_string(),
                    user_agent: mapped
                        .user_agent
                        .clone()
                        .unwrap_or_else(|| header_agent.clone()),
                    collector_id: config.server.collector_id.clone(),
                };
                let enrichment = enrichment(state, source, &mapped, client, &facts.user_agent);
                let mut processed = payload::process(mapped.batch, &facts, limits);
                privacy_reports.push(enforcement.finish(&state.privacy, &mut processed));
                if let Some(enrichment) = enrichment {
                    enrichment.apply(&mut processed.shared);
                }
                if !mapped.declared_device.is_empty() {
                    let device = processed.shared.device.get_or_insert_with(Default::default);
                    mapped.declared_device.apply(device);
                }
                if let Some(skew) = processed.clock_skew_ms {
                    state
                        .metrics
                        .clock_skew
                        .observe(skew.unsigned_abs() as f64 / 1000.0);
                }
                let shared = &mut processed.shared;
                shared.source = event_source(source) as i32;
                shared.library_name = mapped.library_name;
                shared.app = mapped.app;
                shared.library_version = mapped.library_version;
                shared.source_name.clone_from(&source.name);
                for rejected in &mut processed.rejected {
                    rejected.detail = with_message_id(&rejected.detail, &mapped.message_id);
                }
                shared.message_id = mapped.message_id;
                processed
            }
            Err(unmapped) => {
                let unmapped = *unmapped;
                Processed {
                    rejected: vec![RejectedEvent {
                        reason: unmapped.rejection.reason.to_owned(),
                        detail: with_message_id(&unmapped.rejection.detail, &unmapped.message_id),
                        event: unmapped.event,
                        site_key: source.site.clone(),
                        identity: unmapped.identity,
                        received_at_ms,
                        client_ip: truncate_ip(client, limits.ipv4_prefix, limits.ipv6_prefix)
                            .to_string(),
                        user_agent: header_agent.clone(),
                        collector_id: config.server.collector_id.clone(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            }
        };
        let mut overflow = false;
        if !processed.accepted.is_empty() {
            match state.limiters.check_user(&processed.shared.user_key, 1) {
                UserVerdict::Normal => {}
                UserVerdict::Overflow => {
                    overflow = true;
                    overflowed += 1;
                }
                UserVerdict::Refuse(retry_after) => hot_refusal = Some(retry_after),
            }
        }
        accepted_kinds.extend(processed.accepted.iter().map(|e| e.kind));
        rejected_reasons.extend(processed.rejected.iter().map(|r| r.reason.clone()));
        records.extend(state.router.route(&processed, &source.site, overflow));
    }
    // `hot_user_action = "reject"` refuses the whole request, as for a browser batch.
    if let Some(retry_after) = hot_refusal {
        return Err(ApiError::RateLimited {
            limiter: LIMITER_HOT_USER,
            retry_after,
        });
    }

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
    for report in &privacy_reports {
        state.metrics.count_privacy(report);
    }
    for kind in &accepted_kinds {
        state
            .metrics
            .count_accepted(EventKind::try_from(*kind).unwrap_or_default().name(), 1);
    }
    for reason in &rejected_reasons {
        state.metrics.count_rejected(reason, 1);
    }
    if overflowed > 0 {
        state.metrics.events_overflowed.inc_by(overflowed);
        state.metrics.count_rate_limited(LIMITER_HOT_USER);
    }
    state
        .metrics
        .count_import(&source.name, OUTCOME_ACCEPTED, accepted_kinds.len() as u64);
    state.metrics.count_import(
        &source.name,
        OUTCOME_REJECTED,
        rejected_reasons.len() as u64,
    );
    Ok(Summary {
        accepted: accepted_kinds.len(),
        rejected: rejected_reasons.len(),
    })
}

/// The edge's enrichment of an imported message, from what describes the end user only:
/// device from `context.userAgent` (the request's own agent is the sending library's, which
/// would make every server event a bot), geo and network from the address when it is the
/// user's — a trusted `context.ip`, or the connection of an app source (a backend's
/// connection would place every event at its data center). Imported events are not
/// classified for invalid traffic: a server is not a browser, and the library's agent is on
/// every crawler list (collector/README.md, "Mapping").
fn enrichment(
    state: &AppState,
    source: &SourceConfig,
    mapped: &Mapped,
    connection: IpAddr,
    user_agent: &str,
) -> Option<Enrichment> {
    let user_address = mapped
        .client_ip
        .or((source.kind == SourceKind::App).then_some(connection));
    if mapped.user_agent.is_none() && user_address.is_none() {
        return None;
    }
    let agent = if mapped.user_agent.is_some() {
        user_agent
    } else {
        ""
    };
    let mut enrichment = state
        .enricher
        .enrich(user_address.unwrap_or(connection), agent);
    if user_address.is_none() {
        enrichment.geo = None;
        enrichment.network = None;
    }
    if mapped.user_agent.is_none() {
        enrichment.agent = Default::default();
    }
    Some(enrichment)
}

fn event_source(source: &SourceConfig) -> EventSource {
    match source.kind {
        SourceKind::Server => EventSource::Server,
        SourceKind::App => EventSource::App,
    }
}

fn with_message_id(detail: &str, message_id: &str) -> String {
    if message_id.is_empty() {
        detail.to_owned()
    } else {
        format!("{detail} (messageId {message_id:?})")
    }
}
