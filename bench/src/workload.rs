//! Realistic `sightline.v1.Batch`es for load: mixed sizes, mixed kinds, many users.
//!
//! Deterministic for a seed, so two runs (and the collector run and its ceilings) send
//! the same bytes. The mix is shaped like what the SDK sends: most batches are small
//! (a few interactions flushed on a timer), a tail is large (a long session flushed on
//! page hide), and every kind appears, pointer events most often.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng, rngs::StdRng};
use sightline_proto::v1::{
    ActualVisibility, Ad, AdClick, AdImpression, Batch, Click, Custom, Element, Event, Hover,
    Identity, ImpressionPhase, Navigation, PageContext, PageView, Point, Property, Rect, Scroll,
    Search, ViewabilityRule, event::Kind, property::Value,
};

/// What to generate. The defaults match `make bench`.
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    /// Seed of the generator: the same seed gives the same batches.
    pub seed: u64,
    /// Distinct visitors the batches are spread over (the Kafka key space).
    pub users: u32,
    /// Share of visitors that are identified (`user_id` set), 0..=1.
    pub identified_share: f64,
    /// `Batch.site_key`; must be a site the collector knows.
    pub site_key: String,
    /// Smallest and largest number of events in one batch.
    pub min_events: u32,
    pub max_events: u32,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            seed: 0x5167_4711,
            users: 20_000,
            identified_share: 0.3,
            site_key: "demo".into(),
            min_events: 1,
            max_events: 100,
        }
    }
}

/// Builds batches one after another.
pub struct BatchGenerator {
    config: WorkloadConfig,
    rng: StdRng,
    batch_seq: u64,
    event_seq: u64,
}

const PAGES: &[&str] = &[
    "https://demo.sightline.test/",
    "https://demo.sightline.test/courses",
    "https://demo.sightline.test/courses/42",
    "https://demo.sightline.test/courses/42/lessons/7",
    "https://demo.sightline.test/search?utm_source=newsletter&utm_medium=email",
    "https://demo.sightline.test/pricing",
    "https://demo.sightline.test/colleges/iit-bombay",
];
const SELECTORS: &[(&str, &str)] = &[
    ("main>div.results>a#course-42", "a"),
    ("nav>ul>li:nth-child(3)>a", "a"),
    ("main>section.hero>button.cta", "button"),
    ("main>div.card:nth-child(2)>img", "img"),
    ("footer>div.links>a", "a"),
    ("main>form#search>button", "button"),
];
const LOCALES: &[&str] = &["en-IN", "hi-IN", "en-US", "ta-IN", "mr-IN"];

impl BatchGenerator {
    pub fn new(config: WorkloadConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Self {
            config,
            rng,
            batch_seq: 0,
            event_seq: 0,
        }
    }

    /// Number of events of the next batch: 50 % tiny (timer flush of a few interactions),
    /// 30 % medium, 15 % large, 5 % huge (page hide after a long session); mean ≈ 15.
    fn batch_size(&mut self) -> u32 {
        let (lo, hi) = match self.rng.random_range(0..100u32) {
            0..50 => (1, 5),
            50..80 => (6, 20),
            80..95 => (21, 50),
            _ => (51, 100),
        };
        let (min, max) = (self.config.min_events, self.config.max_events.max(1));
        self.rng.random_range(lo..=hi).clamp(min.min(max), max)
    }

    /// The next batch, stamped with `now_ms` as the client's send time.
    pub fn batch(&mut self, now_ms: i64) -> Batch {
        self.batch_seq += 1;
        let user = self.rng.random_range(0..self.config.users.max(1));
        let identified =
            (f64::from(user) / f64::from(self.config.users.max(1))) < self.config.identified_share;
        let size = self.batch_size();
        let page_view_id = self.random_id();
        let events = (0..size)
            .map(|i| {
                let age_ms = i64::from(size - i) * self.rng.random_range(50..400i64);
                self.event(now_ms - age_ms, page_view_id.clone(), i == 0)
            })
            .collect();
        Batch {
            site_key: self.config.site_key.clone(),
            sdk_version: "0.1.0".into(),
            sent_at_ms: now_ms,
            batch_seq: self.batch_seq,
            context: Some(self.context()),
            identity: Some(identity(user, identified)),
            experiments: self.experiments(),
            events,
            evicted_batches: 0,
            signals: None,
            privacy_mode: 0,
            consent: None,
        }
    }

    fn random_id(&mut self) -> Vec<u8> {
        self.rng.random::<[u8; 16]>().to_vec()
    }

    fn context(&mut self) -> PageContext {
        let page = PAGES[self.rng.random_range(0..PAGES.len())];
        let (w, h) =
            [(1920, 937), (1366, 657), (390, 664), (412, 780)][self.rng.random_range(0..4usize)];
        PageContext {
            url: page.into(),
            referrer: "https://www.google.com/".into(),
            viewport_width: w,
            viewport_height: h,
            screen_width: w,
            screen_height: h + 143,
            device_pixel_ratio: if w < 500 { 3.0 } else { 1.0 },
            locale: LOCALES[self.rng.random_range(0..LOCALES.len())].into(),
            timezone_offset_min: 330,
        }
    }

    fn experiments(&mut self) -> BTreeMap<String, String> {
        (0..self.rng.random_range(0..=2u32))
            .map(|i| {
                let variant = if self.rng.random() {
                    "control"
                } else {
                    "treatment"
                };
                (format!("exp-{i}"), variant.to_string())
            })
            .collect()
    }

    fn event(&mut self, client_ts_ms: i64, page_view_id: Vec<u8>, first: bool) -> Event {
        self.event_seq += 1;
        let kind = if first {
            Kind::PageView(self.page_view())
        } else {
            // Weights per 100: hover 25, click 25, scroll 20, ad impression 12, custom 6,
            // page view 6, search 4, ad click 2.
            match self.rng.random_range(0..100u32) {
                0..25 => Kind::Hover(self.hover()),
                25..50 => Kind::Click(self.click()),
                50..70 => Kind::Scroll(self.scroll()),
                70..82 => Kind::AdImpression(self.ad_impression()),
                82..88 => Kind::Custom(self.custom()),
                88..94 => Kind::PageView(self.page_view()),
                94..98 => Kind::Search(Search {
                    query: "data structures".into(),
                    results_count: self.rng.random_range(0..200),
                }),
                _ => Kind::AdClick(self.ad_click()),
            }
        };
        Event {
            event_id: self.random_id(),
            client_ts_ms,
            seq: self.event_seq,
            page_view_id,
            kind: Some(kind),
        }
    }

    fn point(&mut self) -> Point {
        Point {
            x: self.rng.random_range(0..1400),
            y: self.rng.random_range(0..4000),
        }
    }

    fn rect(&mut self) -> Rect {
        Rect {
            x: self.rng.random_range(0..1200),
            y: self.rng.random_range(0..4000),
            width: self.rng.random_range(20..400),
            height: self.rng.random_range(20..300),
        }
    }

    fn element(&mut self) -> Element {
        let (selector, tag) = SELECTORS[self.rng.random_range(0..SELECTORS.len())];
        let mut data = BTreeMap::new();
        if self.rng.random_range(0..3u32) == 0 {
            data.insert(
                "course-id".into(),
                self.rng.random_range(1..500u32).to_string(),
            );
        }
        Element {
            selector: selector.into(),
            tag: tag.into(),
            id: String::new(),
            data,
            href: if tag == "a" {
                "https://demo.sightline.test/courses/42".into()
            } else {
                String::new()
            },
            text: String::new(),
            rect: Some(self.rect()),
        }
    }

    fn page_view(&mut self) -> PageView {
        PageView {
            url: PAGES[self.rng.random_range(0..PAGES.len())].into(),
            referrer: "https://demo.sightline.test/".into(),
            navigation: if self.rng.random() {
                Navigation::Load
            } else {
                Navigation::Push
            } as i32,
            page_height: self.rng.random_range(900..6000),
            ..PageView::default()
        }
    }

    fn click(&mut self) -> Click {
        Click {
            element: Some(self.element()),
            page: Some(self.point()),
            viewport: Some(self.point()),
            button: 0,
        }
    }

    fn hover(&mut self) -> Hover {
        Hover {
            element: Some(self.element()),
            dwell_ms: self.rng.random_range(300..5000),
            ad_slot_id: String::new(),
        }
    }

    fn scroll(&mut self) -> Scroll {
        let pct = [25, 50, 75, 100][self.rng.random_range(0..4usize)];
        Scroll {
            max_depth_px: pct * 40,
            max_depth_pct: pct,
            milestone_pct: pct,
            page_height: 4000,
        }
    }

    fn ad(&mut self) -> Ad {
        let slot = self.rng.random_range(1..6u32);
        Ad {
            slot_id: format!("slot-{slot}"),
            creative_id: format!("cr-{}", self.rng.random_range(100..200u32)),
            campaign_id: "camp-autumn".into(),
            placement_id: format!("pl-{slot}"),
            width: 300,
            height: 250,
            ..Default::default()
        }
    }

    fn ad_impression(&mut self) -> AdImpression {
        AdImpression {
            ad: Some(self.ad()),
            impression_id: self.random_id(),
            phase: ImpressionPhase::Viewable as i32,
            page_rect: Some(self.rect()),
            viewport_rect: Some(self.rect()),
            viewport_width: 1366,
            viewport_height: 657,
            page_height: 4000,
            max_visible_fraction: 0.8,
            in_view_ms: 1000,
            max_continuous_in_view_ms: 1000,
            viewable: true,
            rule: ViewabilityRule::Display50 as i32,
            measurable: true,
            actual_visibility: ActualVisibility::Unknown as i32,
            time_to_viewable_ms: self.rng.random_range(1000..4000),
            slot_tiny: false,
            slot_transparent: false,
            slot_hidden: false,
        }
    }

    fn ad_click(&mut self) -> AdClick {
        AdClick {
            ad: Some(self.ad()),
            impression_id: self.random_id(),
            in_ad: Some(self.point()),
            page: Some(self.point()),
            viewport: Some(self.point()),
            page_rect: Some(self.rect()),
            since_viewable_ms: self.rng.random_range(0..60_000),
            href: "https://ads.example.test/landing".into(),
            synthetic: false,
        }
    }

    fn custom(&mut self) -> Custom {
        Custom {
            name: "lesson_completed".into(),
            properties: vec![
                Property {
                    key: "lesson".into(),
                    value: Some(Value::IntValue(self.rng.random_range(1..40))),
                },
                Property {
                    key: "score".into(),
                    value: Some(Value::NumberValue(self.rng.random_range(0.0..100.0))),
                },
            ],
        }
    }
}

/// Identity of visitor number `user`: stable ids derived from the number, so the same
/// visitor always lands on the same Kafka partition.
fn identity(user: u32, identified: bool) -> Identity {
    let mut traits = BTreeMap::new();
    if identified {
        traits.insert("college".into(), format!("college-{}", user % 97));
        traits.insert("cohort".into(), format!("2026-{}", user % 12 + 1));
    }
    Identity {
        anonymous_id: format!("anon-{user:08x}-4f1c9a2b7d"),
        user_id: if identified {
            format!("user-{user}")
        } else {
            String::new()
        },
        session_id: format!("sess-{user:08x}-01"),
        page_session_id: format!("ps-{user:08x}-01"),
        traits,
    }
}

/// Events in a batch, for reporting events per second.
pub fn event_count(batch: &Batch) -> usize {
    batch.events.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn same_seed_gives_the_same_bytes() {
        let mut a = BatchGenerator::new(WorkloadConfig::default());
        let mut b = BatchGenerator::new(WorkloadConfig::default());
        for _ in 0..20 {
            assert_eq!(
                a.batch(1_000).encode_to_vec(),
                b.batch(1_000).encode_to_vec()
            );
        }
    }

    #[test]
    fn sizes_stay_within_bounds_and_cover_the_range() {
        let mut generator = BatchGenerator::new(WorkloadConfig::default());
        let sizes: Vec<usize> = (0..2_000)
            .map(|_| generator.batch(0).events.len())
            .collect();
        assert!(sizes.iter().all(|&n| (1..=100).contains(&n)));
        assert!(sizes.contains(&1), "small batches appear");
        assert!(sizes.iter().any(|&n| n > 60), "large batches appear");
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        assert!((10.0..20.0).contains(&mean), "mean batch size {mean}");
    }

    #[test]
    fn every_kind_appears_and_events_are_stamped_before_sending() {
        let mut generator = BatchGenerator::new(WorkloadConfig::default());
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..500 {
            let batch = generator.batch(10_000_000);
            assert_eq!(batch.site_key, "demo");
            for event in &batch.events {
                assert!(event.client_ts_ms <= batch.sent_at_ms);
                assert_eq!(event.event_id.len(), 16);
                kinds.insert(sightline_proto::kind_of(event.kind.as_ref()));
            }
        }
        assert_eq!(kinds.len(), 8, "all eight kinds: {kinds:?}");
    }

    #[test]
    fn users_spread_over_many_keys() {
        let mut generator = BatchGenerator::new(WorkloadConfig::default());
        let users: std::collections::HashSet<String> = (0..1_000)
            .map(|_| generator.batch(0).identity.unwrap_or_default().anonymous_id)
            .collect();
        assert!(users.len() > 900, "{} distinct users", users.len());
    }
}
