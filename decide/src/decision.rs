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

    /// Page subject first (1.0), then blended popularity (0..1).
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
                (c, page + share_of(&popularity, &c.subject))
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
