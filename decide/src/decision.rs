//! Deciding which creatives a slot shows, and why.
//!
//! - Not profiled-eligible (cookieless, restricted, minor, GPC, personalization denied, no
//!   id): `contextual` (page subject, then college/cohort/site popularity), no variant, no
//!   profile read, no cap state kept.
//! - Eligible, variant `control`: `static`, the slot's creative of today's rotation.
//! - Eligible, variant `personalized`: with probability ε `explore` (uniform among the
//!   eligible creatives); else `behavioural` when the profile has interests; else
//!   `contextual`.
//!
//! Eligible creatives: the placement fits, the targeting admits the visitor's college and
//! cohort, and (for profiled visitors) today's frequency cap is not reached.

use std::sync::Arc;

use rand::{Rng, seq::SliceRandom};

use crate::{
    catalogue::{Catalogue, CatalogueHandle, Creative},
    config::ExperimentConfig,
    experiment::{self, Variant},
    interests::shares,
    profiles::ProfileStore,
    request::{DecideRequest, Mode},
    time::{TimeSource, utc_day},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    Behavioural,
    Contextual,
    Explore,
    Static,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::Behavioural,
        Policy::Contextual,
        Policy::Explore,
        Policy::Static,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Behavioural => "behavioural",
            Policy::Contextual => "contextual",
            Policy::Explore => "explore",
            Policy::Static => "static",
        }
    }
}

/// One creative chosen, with the score that ranked it.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub creative: Creative,
    /// `<id>-<width>x<height>` when the placement has a size (what the page reports in
    /// `data-ad-creative`), else the id.
    pub creative_id: String,
    pub width: u32,
    pub height: u32,
    pub score: f64,
}

#[derive(Debug, Clone)]
pub struct Decision {
    /// 16 random bytes.
    pub id: [u8; 16],
    pub at_ms: i64,
    pub policy: Policy,
    pub variant: Option<Variant>,
    pub creatives: Vec<Chosen>,
    /// Events folded into the visitor's profile (0 when none or not allowed to look).
    pub profile_events: u64,
    /// The visitor key used, only for profiled-eligible visitors.
    pub visitor_key: Option<String>,
    pub mode: Mode,
    pub page_subject: String,
}

impl Decision {
    pub fn id_hex(&self) -> String {
        self.id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

pub struct Decider {
    pub catalogue: Arc<CatalogueHandle>,
    pub profiles: Arc<ProfileStore>,
    pub time: Arc<dyn TimeSource>,
    pub experiment: ExperimentConfig,
}

/// Popularity weights of college, cohort and site in the blended popularity share.
const POPULARITY_BLEND: [f64; 3] = [0.5, 0.25, 0.25];

impl Decider {
    pub fn decide(&self, request: &DecideRequest, rng: &mut impl Rng) -> Decision {
        let now = self.time.now_ms();
        let catalogue = self.catalogue.get();
        let page_subject = if request.page_subject.is_empty() {
            catalogue
                .subject_of_url(&request.page_url)
                .unwrap_or_default()
                .to_owned()
        } else {
            request.page_subject.clone()
        };
        let visitor = request.profiled_visitor();
        let variant = visitor.map(|v| {
            experiment::assign(
                &self.experiment.salt,
                self.experiment.personalized_share,
                &request.site,
                v,
            )
        });
        let size = catalogue.size_of(&request.placement);
        let count = request.count as usize;
        let mut decision = Decision {
            id: rng.random(),
            at_ms: now,
            policy: Policy::Contextual,
            variant,
            creatives: Vec::new(),
            profile_events: 0,
            visitor_key: visitor.map(str::to_owned),
            mode: request.privacy.mode,
            page_subject,
        };
        let scored: Vec<(&Creative, f64)> = match (visitor, variant) {
            (Some(_), Some(Variant::Control)) => {
                decision.policy = Policy::Static;
                static_picks(&catalogue, &request.slot, count)
            }
            (Some(visitor), _) => {
                let profile = self.profiles.read(&request.site, visitor, now);
                decision.profile_events = profile.as_ref().map_or(0, |p| p.events);
                let day = utc_day(now);
                let mut candidates = self.eligible(&catalogue, request);
                candidates.retain(|c| {
                    self.profiles.under_cap(
                        &request.site,
                        visitor,
                        day,
                        &c.id,
                        c.frequency_cap_per_day,
                    )
                });
                let interests = profile.map(|p| shares(&p.scores)).unwrap_or_default();
                if rng.random::<f64>() < self.experiment.epsilon {
                    decision.policy = Policy::Explore;
                    candidates.shuffle(rng);
                    candidates
                        .into_iter()
                        .take(count)
                        .map(|c| (c, 0.0))
                        .collect()
                } else if interests.is_empty() {
                    decision.policy = Policy::Contextual;
                    self.rank_contextual(candidates, request, &decision.page_subject, now, rng)
                        .into_iter()
                        .take(count)
                        .collect()
                } else {
                    decision.policy = Policy::Behavioural;
                    let popularity = self.popularity_shares(request, now);
                    let mut scored: Vec<(&Creative, f64)> = candidates
                        .into_iter()
                        .map(|c| {
                            let score = share_of(&interests, &c.subject)
                                + self.experiment.context_weight
                                    * f64::from(u8::from(c.subject == decision.page_subject))
                                + self.experiment.popularity_weight
                                    * share_of(&popularity, &c.subject);
                            (c, score)
                        })
                        .collect();
                    rank(&mut scored, rng);
                    scored.truncate(count);
                    scored
                }
            }
            (None, _) => {
                let candidates = self.eligible(&catalogue, request);
                self.rank_contextual(candidates, request, &decision.page_subject, now, rng)
                    .into_iter()
                    .take(count)
                    .collect()
            }
        };
        decision.creatives = scored
            .into_iter()
            .map(|(c, score)| Chosen {
                creative_id: match size {
                    Some((w, h)) => format!("{}-{w}x{h}", c.id),
                    None => c.id.clone(),
                },
                width: size.map_or(0, |s| s.0),
                height: size.map_or(0, |s| s.1),
                creative: c.clone(),
                score,
            })
            .collect();
        // Caps count what personalized visitors were served (control keeps today's
        // uncapped static ads; non-profiled visitors have no state kept at all).
        if let (Some(visitor), Some(Variant::Personalized)) = (visitor, variant) {
            let ids: Vec<&str> = decision
                .creatives
                .iter()
                .map(|c| c.creative.id.as_str())
                .collect();
            if !ids.is_empty() {
                self.profiles
                    .count_served(&request.site, visitor, now, &ids);
            }
        }
        decision
    }

    fn eligible<'c>(&self, catalogue: &'c Catalogue, request: &DecideRequest) -> Vec<&'c Creative> {
        catalogue
            .creatives
            .iter()
            .filter(|c| c.fits(&request.placement) && c.targets(&request.college, &request.cohort))
            .collect()
    }

    /// Subject shares of the popularity groups, blended college > cohort = site.
    fn popularity_shares(&self, request: &DecideRequest, now: i64) -> Vec<(String, f64)> {
        let groups =
            self.profiles
                .popularity(&request.site, &request.college, &request.cohort, now);
        let mut blended: Vec<(String, f64)> = Vec::new();
        let mut total_weight = 0.0;
        for (group, weight) in groups.iter().zip(POPULARITY_BLEND) {
            let group = shares(group);
            if group.is_empty() {
                continue;
            }
            total_weight += weight;
            for (subject, share) in group {
                match blended.iter_mut().find(|(s, _)| *s == subject) {
                    Some((_, v)) => *v += weight * share,
                    None => blended.push((subject, weight * share)),
                }
            }
        }
        if total_weight > 0.0 {
            for (_, v) in &mut blended {
                *v /= total_weight;
            }
        }
        blended
    }

    /// Page subject first (1.0), then `popularity_weight` × blended popularity share.
    fn rank_contextual<'c>(
        &self,
        candidates: Vec<&'c Creative>,
        request: &DecideRequest,
        page_subject: &str,
        now: i64,
        rng: &mut impl Rng,
    ) -> Vec<(&'c Creative, f64)> {
        let popularity = self.popularity_shares(request, now);
        let mut scored: Vec<(&Creative, f64)> = candidates
            .into_iter()
            .map(|c| {
                let page = f64::from(u8::from(
                    !page_subject.is_empty() && c.subject == page_subject,
                ));
                (
                    c,
                    page + self.experiment.popularity_weight * share_of(&popularity, &c.subject),
                )
            })
            .collect();
        rank(&mut scored, rng);
        scored
    }
}

fn share_of(shares: &[(String, f64)], subject: &str) -> f64 {
    shares
        .iter()
        .find(|(s, _)| s == subject)
        .map_or(0.0, |(_, v)| *v)
}

/// Highest score first; equal scores in random order (so equally good creatives share
/// the traffic instead of the catalogue's first taking it all).
fn rank(scored: &mut [(&Creative, f64)], rng: &mut impl Rng) {
    scored.shuffle(rng);
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
}

/// The slot's static creative, then the next ones of the rotation for `count > 1`.
fn static_picks<'c>(
    catalogue: &'c Catalogue,
    slot: &str,
    count: usize,
) -> Vec<(&'c Creative, f64)> {
    let first = catalogue.static_for_slot(slot);
    let mut picks = vec![(first, 0.0)];
    let mut n = 1;
    while picks.len() < count && n < count * 4 {
        let next = catalogue.static_for_slot(&format!("{slot}#{n}"));
        if !picks.iter().any(|(c, _)| c.id == next.id) {
            picks.push((next, 0.0));
        }
        n += 1;
    }
    picks
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;
    use crate::{
        config::{LimitsConfig, ProfilesConfig},
        time::ManualTime,
    };

    const NOW: i64 = 1_795_000_000_000;

    fn decider(share: f64, epsilon: f64) -> Decider {
        let catalogue = Catalogue::from_toml(include_str!("../catalogue.toml")).unwrap();
        Decider {
            catalogue: Arc::new(CatalogueHandle::fixed(catalogue)),
            profiles: Arc::new(ProfileStore::new(&ProfilesConfig::default())),
            time: Arc::new(ManualTime::at(NOW)),
            experiment: ExperimentConfig {
                personalized_share: share,
                epsilon,
                ..ExperimentConfig::default()
            },
        }
    }

    /// `page`: the page's JSON (the search page by default).
    fn request(visitor: &str, privacy: &str, page: &str) -> DecideRequest {
        let page = if page.is_empty() {
            r#"{"url":"http://x/search?q=x"}"#
        } else {
            page
        };
        let json = format!(
            r#"{{"site":"demo","slot":"search-top-banner","placement":"top_banner",
               "page":{page},"user_id":"{visitor}","privacy":{privacy}}}"#
        );
        DecideRequest::parse(json.as_bytes(), &LimitsConfig::default()).unwrap()
    }

    const PERSISTENT: &str = r#"{"mode":"persistent","personalization":"granted"}"#;

    fn chemistry_fan(d: &Decider, visitor: &str) {
        for _ in 0..3 {
            d.profiles.fold(
                "demo",
                visitor,
                "",
                "",
                &[("Chemistry".to_owned(), 2.0)],
                NOW - 1000,
            );
        }
    }

    #[test]
    fn a_profiled_visitor_in_personalized_gets_their_top_subject() {
        let d = decider(1.0, 0.0);
        chemistry_fan(&d, "u1");
        let decision = d.decide(
            &request("u1", PERSISTENT, ""),
            &mut StdRng::seed_from_u64(1),
        );
        assert_eq!(decision.policy, Policy::Behavioural);
        assert_eq!(decision.variant, Some(Variant::Personalized));
        assert_eq!(decision.profile_events, 3);
        assert_eq!(decision.creatives[0].creative.subject, "Chemistry");
        assert_eq!(decision.creatives[0].creative_id, "chem-crash-v1-728x90");
        assert_eq!(decision.visitor_key.as_deref(), Some("u1"));
    }

    #[test]
    fn minors_gpc_denied_and_cookieless_get_contextual_without_profile_or_variant() {
        let d = decider(1.0, 0.0);
        chemistry_fan(&d, "u1");
        for privacy in [
            r#"{"mode":"persistent","minor":true}"#,
            r#"{"mode":"persistent","gpc":true}"#,
            r#"{"mode":"persistent","personalization":"denied"}"#,
            r#"{"mode":"cookieless"}"#,
            r#"{"mode":"restricted"}"#,
        ] {
            let req = request("u1", privacy, r#"{"subject":"Physics"}"#);
            let decision = d.decide(&req, &mut StdRng::seed_from_u64(1));
            assert_eq!(decision.policy, Policy::Contextual, "{privacy}");
            assert_eq!(decision.variant, None, "{privacy}");
            assert_eq!(decision.profile_events, 0, "{privacy}");
            assert_eq!(decision.visitor_key, None, "{privacy}");
            // The page's subject, not the profile's Chemistry.
            assert_eq!(
                decision.creatives[0].creative.subject, "Physics",
                "{privacy}"
            );
        }
    }

    #[test]
    fn control_gets_the_static_rotation() {
        let d = decider(0.0, 0.0);
        chemistry_fan(&d, "u1");
        let decision = d.decide(
            &request("u1", PERSISTENT, ""),
            &mut StdRng::seed_from_u64(1),
        );
        assert_eq!(decision.policy, Policy::Static);
        assert_eq!(decision.variant, Some(Variant::Control));
        let expected = d
            .catalogue
            .get()
            .static_for_slot("search-top-banner")
            .id
            .clone();
        assert_eq!(decision.creatives[0].creative.id, expected);
    }

    #[test]
    fn epsilon_explores_at_its_rate() {
        let d = decider(1.0, 0.2);
        chemistry_fan(&d, "u1");
        let mut rng = StdRng::seed_from_u64(7);
        let explored = (0..2000)
            .filter(|n| {
                let visitor = format!("v{n}");
                d.decide(&request(&visitor, PERSISTENT, ""), &mut rng)
                    .policy
                    == Policy::Explore
            })
            .count();
        // 400 expected; ±5 standard deviations (√(2000·0.2·0.8) ≈ 18).
        assert!((310..=490).contains(&explored), "{explored}");
    }

    #[test]
    fn a_reached_frequency_cap_moves_on_to_the_next_creative() {
        let d = decider(1.0, 0.0);
        chemistry_fan(&d, "u1");
        let cap = d
            .catalogue
            .get()
            .creative("chem-crash-v1")
            .unwrap()
            .frequency_cap_per_day;
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..cap {
            let decision = d.decide(&request("u1", PERSISTENT, ""), &mut rng);
            assert_eq!(decision.creatives[0].creative.id, "chem-crash-v1");
        }
        let decision = d.decide(&request("u1", PERSISTENT, ""), &mut rng);
        assert_ne!(decision.creatives[0].creative.id, "chem-crash-v1");
    }

    #[test]
    fn a_visitor_without_history_gets_their_colleges_popular_subject() {
        let d = decider(1.0, 0.0);
        for n in 0..5 {
            d.profiles.fold(
                "demo",
                &format!("iitm-{n}"),
                "IIT Madras",
                "",
                &[("Physics".to_owned(), 2.0)],
                NOW - 1000,
            );
            d.profiles.fold(
                "demo",
                &format!("du-{n}"),
                "Delhi University",
                "",
                &[("Economics".to_owned(), 2.0)],
                NOW - 1000,
            );
        }
        let ask = |college: &str, privacy: &str| {
            let json = format!(
                r#"{{"site":"demo","slot":"s","placement":"top_banner","college":"{college}",
                   "user_id":"new-student","privacy":{privacy}}}"#
            );
            let req = DecideRequest::parse(json.as_bytes(), &LimitsConfig::default()).unwrap();
            d.decide(&req, &mut StdRng::seed_from_u64(1))
        };
        // Eligible but no history: contextual from the college's popularity.
        let first = ask("IIT Madras", PERSISTENT);
        assert_eq!(first.policy, Policy::Contextual);
        assert_eq!(first.variant, Some(Variant::Personalized));
        assert_eq!(first.creatives[0].creative.subject, "Physics");
        // A minor gets the same aggregate, never a profile.
        let minor = ask("Delhi University", r#"{"mode":"restricted","minor":true}"#);
        assert_eq!(minor.policy, Policy::Contextual);
        assert_eq!(minor.creatives[0].creative.subject, "Economics");
    }

    #[test]
    fn targeting_admits_only_the_listed_college() {
        let d = decider(1.0, 0.0);
        let sidebar = |college: &str| {
            let json = format!(
                r#"{{"site":"demo","slot":"s","placement":"sidebar","college":"{college}","count":5,
                   "page":{{"subject":"Computer Science"}}}}"#
            );
            let req = DecideRequest::parse(json.as_bytes(), &LimitsConfig::default()).unwrap();
            d.decide(&req, &mut StdRng::seed_from_u64(1))
                .creatives
                .iter()
                .any(|c| c.creative.id == "iitm-hackathon-v1")
        };
        assert!(sidebar("IIT Madras"));
        assert!(!sidebar("NIT Trichy"));
    }
}
