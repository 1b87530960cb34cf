//! `POST /v1/unavailable?site=…&reason=…`: the browser SDK's fallback beacon when it could not
//! start on a page (sdk-wasm/js/modules/unavailable.js). Only counted, into
//! `sightline_collector_sdk_unavailable_total{site,reason}`; nothing goes to Kafka and the
//! body (a beacon's, normally empty) is never read. The label values stay bounded whatever
//! clients send: the site must be configured and the reason one of [`REASONS`].

use http::StatusCode;

use crate::{error::ApiError, state::AppState};

/// Why the SDK did not start, as the SDK names it: no WebAssembly in the browser, the `.wasm`
/// not fetched (offline, CSP `connect-src`, 404), compiling it refused or failed (a CSP
/// without `'wasm-unsafe-eval'`).
pub const REASONS: [&str; 3] = ["no_wasm", "fetch", "wasm"];

fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Counts one report; `Ok` is the status to answer.
pub fn report(state: &AppState, query: Option<&str>) -> Result<StatusCode, ApiError> {
    let site = query_value(query, "site").unwrap_or_default();
    if !state.sites.contains_key(site) {
        return Err(ApiError::UnknownSite(site.chars().take(128).collect()));
    }
    let reason = query_value(query, "reason").unwrap_or_default();
    let Some(&reason) = REASONS.iter().find(|known| **known == reason) else {
        return Err(ApiError::UnknownReason(reason.chars().take(32).collect()));
    };
    state.metrics.count_sdk_unavailable(site, reason);
    Ok(StatusCode::NO_CONTENT)
}
