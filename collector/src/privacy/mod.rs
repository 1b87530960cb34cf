//! Privacy enforcement at the edge (issue 18, docs/privacy.md): the SDK decides a batch's
//! identity mode, and the collector enforces it again so a buggy page cannot leak what
//! the mode forbids.
//!
//! Two steps around `payload::process`:
//! * [`Privacy::enforce`], right after the batch is decoded and its site known: decides
//!   the mode (`mode`), strips forbidden identity, derives the cookieless visitor id from
//!   the **full** client address (`visitor_id`; the address is not kept), takes the
//!   behavioural events of a RESTRICTED batch out, scrubs the page context (`scrub`);
//! * [`Enforcement::finish`], on the processed batch: the record key, the privacy fields
//!   of every `CollectedEvent`, the scrubbing of each event (accepted and dead-lettered),
//!   and the refused events as dead letters with reason `privacy_restricted`.

pub mod mode;
pub mod scrub;
pub mod visitor_id;

use std::net::IpAddr;

use sightline_proto::v1::{Batch, Event, PrivacyMode, RejectedEvent, event::Kind, property::Value};

use crate::{
    config::PrivacyConfig,
    payload::{self, Processed, validate::reason},
};
use scrub::{Detectors, Redactions, scrub_in_place};
use visitor_id::VisitorIds;

/// The collector's privacy settings, built once at start.
#[derive(Debug)]
pub struct Privacy {
    ids: VisitorIds,
    detectors: Detectors,
    denied_storage_is_cookieless: bool,
}

impl Privacy {
    pub fn new(config: &PrivacyConfig) -> Self {
        let secret = match config.visitor_id_secret() {
            Some(secret) => secret.to_vec(),
            None => {
                tracing::warn!(
                    "privacy.visitor_id_secret is not set: cookieless visitor ids use a random \
                     per-process secret and differ between collectors and restarts"
                );
                random_secret()
            }
        };
        Self {
            ids: VisitorIds::new(secret),
            detectors: Detectors::from_config(config),
            denied_storage_is_cookieless: config.denied_storage_is_cookieless,
        }
    }

    pub fn detectors(&self) -> &Detectors {
        &self.detectors
    }

    /// Decides and enforces `batch`'s mode (written back into `batch.privacy_mode`, which
    /// `payload::process` copies into every record). `client` is the full address and
    /// `user_agent` the request's; `now_ms` picks the visitor id's day.
    pub fn enforce(
        &self,
        batch: &mut Batch,
        site: &str,
        client: IpAddr,
        user_agent: &str,
        now_ms: i64,
    ) -> Enforcement {
        let mode = mode::effective(
            batch.privacy_mode,
            batch.consent.as_ref(),
            self.denied_storage_is_cookieless,
        );
        batch.privacy_mode = mode as i32;
        let stripped = mode::strip_identity(batch, mode);
        let visitor_id = if mode == PrivacyMode::Cookieless {
            self.ids.visitor_id(site, client, user_agent, now_ms)
        } else {
            String::new()
        };
        let mut refused = Vec::new();
        if mode == PrivacyMode::Restricted {
            let (kept, out): (Vec<Event>, Vec<Event>) = std::mem::take(&mut batch.events)
                .into_iter()
                .partition(|e| {
                    mode::allowed_when_restricted(sightline_proto::kind_of(e.kind.as_ref()))
                });
            batch.events = kept;
            refused = out.into_iter().map(without_content).collect();
        }
        let mut context_redactions = Redactions::default();
        if let Some(context) = batch.context.as_mut() {
            scrub_in_place(&mut context.url, &self.detectors, &mut context_redactions);
            scrub_in_place(
                &mut context.referrer,
                &self.detectors,
                &mut context_redactions,
            );
        }
        Enforcement {
            mode,
            visitor_id,
            stripped,
            refused,
            context_redactions,
        }
    }
}

/// A per-process secret when none is configured.
fn random_secret() -> Vec<u8> {
    use std::io::Read as _;
    let mut secret = vec![0u8; 32];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut secret));
    if filled.is_err() {
        // No urandom: the clock and the process id still differ between processes.
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        secret = visitor_id::hmac_sha256(seed.as_bytes(), &[b"sightline"]).to_vec();
    }
    secret
}

/// A refused event as it goes to the dead letter: its id, times, sequence number and
/// kind, but none of its content (what a restricted visitor did is not kept anywhere).
fn without_content(event: Event) -> Event {
    let kind = event.kind.map(|kind| match kind {
        Kind::PageView(_) => Kind::PageView(Default::default()),
        Kind::Click(_) => Kind::Click(Default::default()),
        Kind::Scroll(_) => Kind::Scroll(Default::default()),
        Kind::Hover(_) => Kind::Hover(Default::default()),
        Kind::AdImpression(_) => Kind::AdImpression(Default::default()),
        Kind::AdClick(_) => Kind::AdClick(Default::default()),
        Kind::Search(_) => Kind::Search(Default::default()),
        Kind::Custom(_) => Kind::Custom(Default::default()),
        Kind::AdVideo(_) => Kind::AdVideo(Default::default()),
    });
    Event { kind, ..event }
}

/// What [`Privacy::enforce`] decided for one batch.
#[derive(Debug)]
pub struct Enforcement {
    pub mode: PrivacyMode,
    /// COOKIELESS only.
    pub visitor_id: String,
    /// Identity items removed (ids, traits, experiments).
    pub stripped: u32,
    /// Behavioural events of a RESTRICTED batch, content removed.
    pub refused: Vec<Event>,
    /// In the page context (url, referrer): part of every event's record.
    pub context_redactions: Redactions,
}

/// What to count once the batch is delivered.
#[derive(Debug, Default)]
pub struct Report {
    pub mode: Option<PrivacyMode>,
    /// Events the batch had (accepted, rejected and refused).
    pub events: u64,
    pub identity_stripped: bool,
    pub redactions: Redactions,
}

impl Enforcement {
    /// The record key (and the hot-user limiter's): the visitor id (COOKIELESS), the
    /// page-session id (RESTRICTED: random, one page load, links nothing across pages),
    /// else the user id or anonymous id as before.
    pub fn user_key<'a>(&'a self, batch: &'a Batch) -> &'a str {
        match self.mode {
            PrivacyMode::Cookieless => &self.visitor_id,
            PrivacyMode::Restricted => batch
                .identity
                .as_ref()
                .map_or("", |i| i.page_session_id.as_str()),
            _ => payload::user_key(batch),
        }
    }

    /// Applies the mode to the processed batch: privacy fields, key, per-event scrubbing
    /// and the refused events as dead letters.
    pub fn finish(self, privacy: &Privacy, processed: &mut Processed) -> Report {
        let detectors = privacy.detectors();
        let shared = &mut processed.shared;
        shared.visitor_id = self.visitor_id;
        shared.identity_stripped = self.stripped > 0;
        shared.user_key = match self.mode {
            PrivacyMode::Cookieless => shared.visitor_id.clone(),
            PrivacyMode::Restricted => shared
                .identity
                .as_ref()
                .map_or_else(String::new, |i| i.page_session_id.clone()),
            _ => std::mem::take(&mut shared.user_key),
        };
        let mut redactions = self.context_redactions;
        let context = self.context_redactions.total();
        for accepted in &mut processed.accepted {
            let mut own = Redactions::default();
            scrub_event(&mut accepted.event, detectors, &mut own);
            accepted.pii_redactions = context + own.total();
            redactions.merge(&own);
        }
        for rejected in &mut processed.rejected {
            if let Some(event) = rejected.event.as_mut() {
                scrub_event(event, detectors, &mut redactions);
            }
        }
        let events =
            (processed.accepted.len() + processed.rejected.len() + self.refused.len()) as u64;
        for event in self.refused {
            let kind = sightline_proto::kind_of(event.kind.as_ref());
            processed.rejected.push(RejectedEvent {
                reason: reason::PRIVACY_RESTRICTED.to_owned(),
                detail: format!(
                    "{} events are not collected in restricted mode (page views and ad \
                     measurement only)",
                    kind.name()
                ),
                event: Some(event),
                site_key: shared.site_key.clone(),
                sdk_version: shared.sdk_version.clone(),
                identity: shared.identity.clone(),
                batch_seq: shared.batch_seq,
                received_at_ms: shared.received_at_ms,
                client_sent_at_ms: shared.client_sent_at_ms,
                client_ip: shared.client_ip.clone(),
                user_agent: shared.user_agent.clone(),
                collector_id: shared.collector_id.clone(),
            });
        }
        Report {
            mode: Some(self.mode),
            events,
            identity_stripped: self.stripped > 0,
            redactions,
        }
    }
}

/// Scrubs the free-text fields of one event: search query, custom-event string
/// properties, page-view URL and referrer, element text and links, ad-click link.
pub fn scrub_event(event: &mut Event, detectors: &Detectors, found: &mut Redactions) {
    let mut text = |s: &mut String| {
        scrub_in_place(s, detectors, found);
    };
    match event.kind.as_mut() {
        Some(Kind::Search(search)) => text(&mut search.query),
        Some(Kind::Custom(custom)) => {
            for property in &mut custom.properties {
                if let Some(Value::StringValue(value)) = property.value.as_mut() {
                    text(value);
                }
            }
        }
        Some(Kind::PageView(page)) => {
            text(&mut page.url);
            text(&mut page.referrer);
        }
        Some(Kind::Click(click)) => {
            if let Some(element) = click.element.as_mut() {
                text(&mut element.text);
                text(&mut element.href);
            }
        }
        Some(Kind::Hover(hover)) => {
            if let Some(element) = hover.element.as_mut() {
                text(&mut element.text);
                text(&mut element.href);
            }
        }
        Some(Kind::AdClick(click)) => text(&mut click.href),
        Some(Kind::Scroll(_) | Kind::AdImpression(_) | Kind::AdVideo(_)) | None => {}
    }
}

#[cfg(test)]
mod tests;
