//! JSON responses.

use http::{HeaderValue, StatusCode, header};
use serde_json::json;
pub use sightline_service::response::{HttpResponse, json, with_body};

use crate::{decision::Decision, error::DecideError};

pub fn error(err: &DecideError) -> HttpResponse {
    let mut response = with_body(err.status(), "application/json", err.body());
    if err.status() == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// The body of a decision (decide/README.md, "API").
pub fn decision_body(decision: &Decision) -> serde_json::Value {
    let creatives: Vec<serde_json::Value> = decision
        .creatives
        .iter()
        .map(|c| {
            json!({
                "creative_id": c.creative_id,
                "campaign_id": c.creative.campaign,
                "subject": c.creative.subject,
                "course": c.creative.course,
                // Rounded: the ranking's detail, not a contract to 17 digits.
                "score": (c.score * 10_000.0).round() / 10_000.0,
                "width": c.width,
                "height": c.height,
                "headline": c.creative.headline,
                "body": c.creative.body,
                "cta": c.creative.cta,
                "hue": c.creative.hue,
            })
        })
        .collect();
    json!({
        "decision_id": decision.id_hex(),
        "policy": decision.policy.as_str(),
        "variant": decision.variant.map_or("", |v| v.as_str()),
        "creatives": creatives,
        "profile_events": decision.profile_events,
        "page_subject": decision.page_subject,
    })
}

pub fn decision(decision: &Decision) -> HttpResponse {
    let mut response = json(StatusCode::OK, decision_body(decision));
    // A decision is for one page view: never reused from a cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
