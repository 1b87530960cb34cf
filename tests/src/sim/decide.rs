//! Client side of the decision service's fixed API (`POST /v1/decide`, crate `decide/`).

use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use serde::{Deserialize, Serialize};

use super::model::{PrivacyClass, Student};
use crate::collector::request;

/// One decision must answer within this (the service's goal is p99 < 10 ms; a debug build on
/// a shared machine is slower, the bound only stops a hung run).
pub const DECIDE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize)]
pub struct DecideRequest<'a> {
    pub site: &'a str,
    pub slot: &'a str,
    pub placement: &'a str,
    pub page: Page<'a>,
    pub college: &'a str,
    pub cohort: &'a str,
    pub anonymous_id: &'a str,
    pub user_id: &'a str,
    pub privacy: Privacy,
    pub count: u32,
}

#[derive(Debug, Serialize)]
pub struct Page<'a> {
    pub url: &'a str,
    pub subject: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Privacy {
    pub mode: &'static str,
    pub personalization: &'static str,
    pub gpc: bool,
    pub minor: bool,
}

impl Privacy {
    pub fn of(class: PrivacyClass) -> Self {
        match class {
            PrivacyClass::Consenting => Self {
                mode: "persistent",
                personalization: "granted",
                gpc: false,
                minor: false,
            },
            PrivacyClass::Minor => Self {
                mode: "restricted",
                personalization: "denied",
                gpc: false,
                minor: true,
            },
            PrivacyClass::Gpc => Self {
                mode: "cookieless",
                personalization: "denied",
                gpc: true,
                minor: false,
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Decision {
    pub decision_id: String,
    pub policy: String,
    #[serde(default)]
    pub variant: String,
    pub creatives: Vec<Creative>,
    #[serde(default)]
    pub profile_events: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Creative {
    pub creative_id: String,
    pub campaign_id: String,
    pub subject: String,
    #[serde(default)]
    pub course: String,
}

pub struct SlotRequest<'a> {
    pub site: &'a str,
    pub slot: &'a str,
    pub placement: &'a str,
    pub url: &'a str,
    pub subject: &'a str,
}

/// Asks for one creative for `student` in `slot`.
pub async fn decide(
    client: &Client<HttpConnector, Full<Bytes>>,
    base_url: &str,
    student: &Student,
    slot: &SlotRequest<'_>,
) -> anyhow::Result<Decision> {
    let body = DecideRequest {
        site: slot.site,
        slot: slot.slot,
        placement: slot.placement,
        page: Page {
            url: slot.url,
            subject: slot.subject,
        },
        college: &student.college,
        cohort: &student.cohort,
        anonymous_id: &student.anonymous_id,
        user_id: &student.user_id,
        privacy: Privacy::of(student.class),
        count: 1,
    };
    let reply = tokio::time::timeout(
        DECIDE_TIMEOUT,
        request(
            client,
            http::Method::POST,
            &format!("{base_url}/v1/decide"),
            &[("content-type", "application/json")],
            serde_json::to_vec(&body)?,
        ),
    )
    .await
    .context("decide timed out")??;
    if reply.status != 200 {
        bail!("decide answered {}: {}", reply.status, reply.body);
    }
    // No creative (nothing eligible: targeting, frequency caps) is a valid answer: the slot
    // stays unfilled and the caller counts it.
    serde_json::from_str(&reply.body).with_context(|| format!("decide answer {}", reply.body))
}
