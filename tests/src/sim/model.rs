//! Who the simulated students are and how they behave: the hidden ground truth.
//!
//! Click model: a student clicks a viewable ad with probability `p_match` when the
//! creative's subject is their interest subject, else `p_other`; nothing else matters
//! (not the slot, the policy or the time). The defaults (4 % and 0.8 %) are chosen so the
//! arms land near the platform's figures (CTR ~1.1 % with static ads, 2.8 % with
//! personalization) on the demo catalogue: the static rotation matches a student's interest
//! on about 8.5 % of impressions (control ≈ 0.008 + 0.085 × 0.032 ≈ 1.07 %), the decision
//! service on about 64 % (cold starts and exploration included: ≈ 2.85 %). These shares are
//! measured, not assumed: the ground truth is Σ p over what was actually served.
//!
//! Browsing noise: each page view is a course of the interest subject with probability
//! `1 - noise`, else a course of any subject; each search uses a tag of an interest course
//! with the same odds, else a tag of any course.

use rand::{Rng, SeedableRng, rngs::StdRng};

use super::catalogue::{Catalogue, Course};

/// Privacy situation of a student, which decides what may be profiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyClass {
    /// Persistent ids, personalization consent granted: in the `ad_policy` experiment.
    Consenting,
    /// A known minor: restricted mode, no ids, no behavioural capture.
    Minor,
    /// navigator.globalPrivacyControl: cookieless, personalization denied.
    Gpc,
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub seed: u64,
    pub students: u32,
    pub sessions_per_student: u32,
    /// Ad slots per session (each a decision and a viewable impression).
    pub ads_per_session: u32,
    /// Share of students who are known minors (restricted).
    pub minor_share: f64,
    /// Share of students whose browser sends GPC (cookieless, personalization denied).
    pub gpc_share: f64,
    /// Share of page views and searches outside the interest subject.
    pub noise: f64,
    pub p_match: f64,
    pub p_other: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            seed: 22,
            students: 900,
            sessions_per_student: 4,
            ads_per_session: 3,
            minor_share: 0.12,
            gpc_share: 0.10,
            noise: 0.2,
            p_match: 0.04,
            p_other: 0.008,
        }
    }
}

impl ModelConfig {
    /// Probability that a student interested in `interest` clicks an ad for `subject`.
    pub fn p_click(&self, interest: &str, subject: &str) -> f64 {
        if interest == subject {
            self.p_match
        } else {
            self.p_other
        }
    }
}

const COLLEGES: &[&str] = &[
    "IIT Madras",
    "NIT Trichy",
    "BITS Pilani",
    "Delhi University",
    "IIT Bombay",
    "Anna University",
];
const COHORTS: &[&str] = &["2026", "2027", "2028"];

#[derive(Debug, Clone)]
pub struct Student {
    pub index: u32,
    pub class: PrivacyClass,
    pub interest: String,
    pub college: String,
    pub cohort: String,
    /// Empty for minors and GPC users: their batches carry no ids.
    pub anonymous_id: String,
    pub user_id: String,
}

impl Student {
    /// The student's own RNG: the same for a seed whatever the scheduling.
    pub fn rng(&self, seed: u64) -> StdRng {
        StdRng::seed_from_u64(
            seed ^ (u64::from(self.index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }
}

/// The population, drawn from the seed: class by share, interest uniform over subjects.
pub fn population(config: &ModelConfig, catalogue: &Catalogue) -> Vec<Student> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    (0..config.students)
        .map(|index| {
            let roll: f64 = rng.random();
            let class = if roll < config.minor_share {
                PrivacyClass::Minor
            } else if roll < config.minor_share + config.gpc_share {
                PrivacyClass::Gpc
            } else {
                PrivacyClass::Consenting
            };
            let interest =
                catalogue.subjects[rng.random_range(0..catalogue.subjects.len())].clone();
            let college = COLLEGES[rng.random_range(0..COLLEGES.len())];
            let year = COHORTS[rng.random_range(0..COHORTS.len())];
            let (anonymous_id, user_id) = match class {
                PrivacyClass::Consenting => (
                    format!("sim-{:x}-a{index}", config.seed),
                    format!("sim-{:x}-u{index}", config.seed),
                ),
                PrivacyClass::Minor | PrivacyClass::Gpc => (String::new(), String::new()),
            };
            Student {
                index,
                class,
                interest: interest.clone(),
                college: college.into(),
                cohort: format!("{}-{year}", short(&interest)),
                anonymous_id,
                user_id,
            }
        })
        .collect()
}

fn short(subject: &str) -> String {
    subject
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect::<String>()
        .to_uppercase()
}

/// A course the student looks at: of the interest subject unless noise says otherwise.
pub fn pick_course<'a>(
    rng: &mut StdRng,
    catalogue: &'a Catalogue,
    interest: &'a str,
    noise: f64,
) -> &'a Course {
    let on_topic: Vec<&Course> = catalogue.in_subject(interest).collect();
    if !on_topic.is_empty() && rng.random::<f64>() >= noise {
        on_topic[rng.random_range(0..on_topic.len())]
    } else {
        &catalogue.courses[rng.random_range(0..catalogue.courses.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::parse(
            "export const COURSES = [\n\
             { id: 'a', subject: 'Math', tags: ['x'] },\n\
             { id: 'b', subject: 'Physics', tags: ['y'] },\n];\n",
        )
        .expect("catalogue")
    }

    #[test]
    fn population_is_deterministic_and_has_every_class() {
        let config = ModelConfig {
            students: 400,
            ..ModelConfig::default()
        };
        let one = population(&config, &catalogue());
        let two = population(&config, &catalogue());
        assert_eq!(
            one.iter()
                .map(|s| (s.class, s.interest.clone()))
                .collect::<Vec<_>>(),
            two.iter()
                .map(|s| (s.class, s.interest.clone()))
                .collect::<Vec<_>>()
        );
        for class in [
            PrivacyClass::Consenting,
            PrivacyClass::Minor,
            PrivacyClass::Gpc,
        ] {
            assert!(one.iter().any(|s| s.class == class), "no {class:?}");
        }
        assert!(
            one.iter()
                .filter(|s| s.class != PrivacyClass::Consenting)
                .all(|s| s.anonymous_id.is_empty() && s.user_id.is_empty())
        );
    }

    #[test]
    fn click_probability_follows_the_interest() {
        let config = ModelConfig::default();
        assert_eq!(config.p_click("Math", "Math"), config.p_match);
        assert_eq!(config.p_click("Math", "Physics"), config.p_other);
    }
}
