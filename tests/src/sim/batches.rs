//! The protobuf `Batch`es a page session sends, built as the SDK builds them: identity,
//! privacy mode and consent per the student's privacy class, the `ad_policy` assignment in
//! `Batch.experiments` for students in the experiment, the decision on every `Ad`.

use std::collections::BTreeMap;

use rand::{Rng, rngs::StdRng};
use sightline_proto::v1::{
    ActualVisibility, Ad, AdClick, AdImpression, Batch, ConsentPurposes, ConsentSource,
    ConsentState, Event, Identity, ImpressionPhase, Navigation, PageContext, PageView, Point,
    PrivacyMode, Rect, Search, ViewabilityRule, event::Kind,
};

use super::decide::Decision;
use super::model::{PrivacyClass, Student};

/// Origin of the simulated pages (the collector's test sites allow `http://localhost:*`).
pub const ORIGIN: &str = "http://localhost:5173";
pub const EXPERIMENT: &str = "ad_policy";

/// One page session (one SDK instance): its ids and counters.
pub struct PageSession {
    pub session_id: String,
    pub page_session_id: String,
    pub page_view_id: Vec<u8>,
    seq: u64,
    batch_seq: u64,
}

impl PageSession {
    pub fn new(rng: &mut StdRng) -> Self {
        Self {
            session_id: hex(&random_id(rng)),
            page_session_id: hex(&random_id(rng)),
            page_view_id: random_id(rng),
            seq: 0,
            batch_seq: 0,
        }
    }

    pub fn event(&mut self, rng: &mut StdRng, client_ts_ms: i64, kind: Kind) -> Event {
        self.seq += 1;
        Event {
            event_id: random_id(rng),
            client_ts_ms,
            seq: self.seq,
            page_view_id: self.page_view_id.clone(),
            kind: Some(kind),
        }
    }

    /// A new page view id (SPA navigation) and its PageView event.
    pub fn navigate(&mut self, rng: &mut StdRng, client_ts_ms: i64, url: &str) -> Event {
        self.page_view_id = random_id(rng);
        self.event(
            rng,
            client_ts_ms,
            Kind::PageView(PageView {
                url: url.into(),
                referrer: format!("{ORIGIN}/"),
                navigation: Navigation::Push as i32,
                page_height: 2400,
                ..PageView::default()
            }),
        )
    }

    pub fn batch(
        &mut self,
        student: &Student,
        site_key: &str,
        url: &str,
        variant: &str,
        sent_at_ms: i64,
        events: Vec<Event>,
    ) -> Batch {
        self.batch_seq += 1;
        let mut experiments = BTreeMap::new();
        if student.class == PrivacyClass::Consenting && !variant.is_empty() {
            experiments.insert(EXPERIMENT.to_string(), variant.to_string());
        }
        Batch {
            site_key: site_key.into(),
            sdk_version: "0.1.0-sim".into(),
            sent_at_ms,
            batch_seq: self.batch_seq,
            context: Some(PageContext {
                url: url.into(),
                referrer: format!("{ORIGIN}/"),
                viewport_width: 1366,
                viewport_height: 768,
                locale: "en-IN".into(),
                timezone_offset_min: 330,
                ..Default::default()
            }),
            identity: Some(self.identity(student)),
            experiments,
            events,
            privacy_mode: privacy_mode(student.class) as i32,
            consent: Some(consent(student.class)),
            ..Default::default()
        }
    }

    fn identity(&self, student: &Student) -> Identity {
        let mut identity = Identity {
            page_session_id: self.page_session_id.clone(),
            ..Default::default()
        };
        if student.class == PrivacyClass::Consenting {
            identity.anonymous_id = student.anonymous_id.clone();
            identity.user_id = student.user_id.clone();
            identity.session_id = self.session_id.clone();
            identity.traits = BTreeMap::from([
                ("college".to_string(), student.college.clone()),
                ("cohort".to_string(), student.cohort.clone()),
            ]);
        }
        identity
    }
}

fn privacy_mode(class: PrivacyClass) -> PrivacyMode {
    match class {
        PrivacyClass::Consenting => PrivacyMode::Persistent,
        PrivacyClass::Minor => PrivacyMode::Restricted,
        PrivacyClass::Gpc => PrivacyMode::Cookieless,
    }
}

fn consent(class: PrivacyClass) -> ConsentPurposes {
    let granted = ConsentState::Granted as i32;
    let denied = ConsentState::Denied as i32;
    match class {
        PrivacyClass::Consenting => ConsentPurposes {
            measurement: granted,
            personalization: granted,
            storage: granted,
            source: ConsentSource::Api as i32,
            ..Default::default()
        },
        PrivacyClass::Minor => ConsentPurposes {
            measurement: granted,
            personalization: denied,
            storage: denied,
            source: ConsentSource::Api as i32,
            minor: true,
            ..Default::default()
        },
        PrivacyClass::Gpc => ConsentPurposes {
            measurement: granted,
            personalization: denied,
            storage: denied,
            source: ConsentSource::Gpc as i32,
            gpc: true,
            ..Default::default()
        },
    }
}

pub fn search(query: &str, results_count: u32) -> Kind {
    Kind::Search(Search {
        query: query.into(),
        results_count,
    })
}

/// The `Ad` of a slot filled by `decision`, decision fields as the page puts them on the slot.
pub fn ad(slot_id: &str, placement: &str, size: (u32, u32), decision: &Decision) -> Ad {
    let creative = decision.creatives.first();
    Ad {
        slot_id: slot_id.into(),
        creative_id: creative.map(|c| c.creative_id.clone()).unwrap_or_default(),
        campaign_id: creative.map(|c| c.campaign_id.clone()).unwrap_or_default(),
        placement_id: placement.into(),
        width: size.0,
        height: size.1,
        decision_id: decision.decision_id.clone(),
        decision_policy: decision.policy.clone(),
        decision_variant: decision.variant.clone(),
    }
}

/// The VIEWABLE phase: the slot met the display rule (50 % of pixels for 1 s).
pub fn viewable_impression(ad: Ad, impression_id: Vec<u8>, size: (u32, u32)) -> Kind {
    let rect = Rect {
        x: 40,
        y: 300,
        width: size.0,
        height: size.1,
    };
    Kind::AdImpression(AdImpression {
        ad: Some(ad),
        impression_id,
        phase: ImpressionPhase::Viewable as i32,
        page_rect: Some(rect),
        viewport_rect: Some(rect),
        viewport_width: 1366,
        viewport_height: 768,
        page_height: 2400,
        max_visible_fraction: 1.0,
        in_view_ms: 1000,
        max_continuous_in_view_ms: 1000,
        viewable: true,
        rule: ViewabilityRule::Display50 as i32,
        measurable: true,
        actual_visibility: ActualVisibility::Unknown as i32,
        time_to_viewable_ms: 1000,
        ..Default::default()
    })
}

/// A human click some seconds after the impression became viewable, at a varied position
/// (the collector's invalid-traffic rules flag too-fast and repeated-position clicks).
pub fn click(rng: &mut StdRng, ad: Ad, impression_id: Vec<u8>, size: (u32, u32)) -> Kind {
    let in_ad = Point {
        x: rng.random_range(0..size.0.max(1) as i32),
        y: rng.random_range(0..size.1.max(1) as i32),
    };
    Kind::AdClick(AdClick {
        ad: Some(ad),
        impression_id,
        page: Some(Point {
            x: 40 + in_ad.x,
            y: 300 + in_ad.y,
        }),
        viewport: Some(in_ad),
        in_ad: Some(in_ad),
        page_rect: Some(Rect {
            x: 40,
            y: 300,
            width: size.0,
            height: size.1,
        }),
        since_viewable_ms: rng.random_range(1_500..8_000),
        href: format!("{ORIGIN}/courses/landing"),
        synthetic: false,
    })
}

pub fn random_id(rng: &mut StdRng) -> Vec<u8> {
    rng.random::<[u8; 16]>().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
