//! The simulation's ground truth, written as JSON for the ClickHouse analysis
//! (analytics/sightline_analytics/personalization.py) to hold the observed numbers against.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{ModelConfig, PrivacyClass};

/// One viewable impression the simulator sent, with the click probability the model gave it.
#[derive(Debug, Clone)]
pub struct ServedImpression {
    pub class: PrivacyClass,
    pub variant: String,
    pub policy: String,
    pub matched: bool,
    pub p_click: f64,
    pub clicked: bool,
}

/// Per experiment arm: what was served and what the model predicts for it.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Arm {
    pub impressions: u64,
    /// Impressions whose creative's subject was the student's interest.
    pub matched_impressions: u64,
    /// Σ p(click) over the impressions served: the expected number of clicked impressions.
    pub expected_clicks: f64,
    /// Σ p(1 - p): the variance of the clicked-impression count (independent Bernoulli draws).
    pub variance: f64,
    /// Clicks the simulator actually drew (and sent).
    pub simulated_clicks: u64,
    /// Impressions per decision policy.
    pub policies: BTreeMap<String, u64>,
}

impl Arm {
    fn add(&mut self, served: &ServedImpression) {
        self.impressions += 1;
        self.matched_impressions += u64::from(served.matched);
        self.expected_clicks += served.p_click;
        self.variance += served.p_click * (1.0 - served.p_click);
        self.simulated_clicks += u64::from(served.clicked);
        *self.policies.entry(served.policy.clone()).or_default() += 1;
    }

    pub fn expected_ctr(&self) -> f64 {
        if self.impressions == 0 {
            0.0
        } else {
            self.expected_clicks / self.impressions as f64
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Freshness {
    pub probes: u64,
    pub reflected: u64,
    pub timed_out: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Decisions the probes asked for (they are in the decision log too).
    pub decide_calls: u64,
    /// Events the probes sent (one search each; they reach Kafka like the rest).
    pub events_sent: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Traffic {
    pub batches: u64,
    pub events: u64,
    pub decisions: u64,
    pub decide_p50_ms: f64,
    pub decide_p99_ms: f64,
    pub elapsed_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub seed: u64,
    pub students: u32,
    pub sessions_per_student: u32,
    pub ads_per_session: u32,
    pub minor_share: f64,
    pub gpc_share: f64,
    pub noise: f64,
    pub p_match: f64,
    pub p_other: f64,
}

impl From<&ModelConfig> for Model {
    fn from(c: &ModelConfig) -> Self {
        Self {
            seed: c.seed,
            students: c.students,
            sessions_per_student: c.sessions_per_student,
            ads_per_session: c.ads_per_session,
            minor_share: c.minor_share,
            gpc_share: c.gpc_share,
            noise: c.noise,
            p_match: c.p_match,
            p_other: c.p_other,
        }
    }
}

/// Everything the analysis needs; `protected_decisions` lists every decision served to a
/// minor or a GPC user (decision id → class), to be found in the decision log.
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    pub site_key: String,
    pub model: Model,
    pub students: BTreeMap<PrivacyClass, u64>,
    /// Keyed by variant; "" = not in the experiment (minors, GPC users).
    pub arms: BTreeMap<String, Arm>,
    /// Decisions without a creative per variant (no impression was sent for them).
    pub unfilled: BTreeMap<String, u64>,
    /// Decisions per privacy class and policy, as the service answered them.
    pub policies_by_class: BTreeMap<PrivacyClass, BTreeMap<String, u64>>,
    pub protected_decisions: BTreeMap<String, PrivacyClass>,
    pub freshness: Freshness,
    pub traffic: Traffic,
}

impl GroundTruth {
    pub fn new(site_key: &str, config: &ModelConfig) -> Self {
        Self {
            site_key: site_key.into(),
            model: config.into(),
            students: BTreeMap::new(),
            arms: BTreeMap::new(),
            unfilled: BTreeMap::new(),
            policies_by_class: BTreeMap::new(),
            protected_decisions: BTreeMap::new(),
            freshness: Freshness::default(),
            traffic: Traffic::default(),
        }
    }

    pub fn add_impression(&mut self, served: &ServedImpression) {
        self.arms
            .entry(served.variant.clone())
            .or_default()
            .add(served);
    }

    pub fn add_decision(&mut self, class: PrivacyClass, decision_id: &str, policy: &str) {
        *self
            .policies_by_class
            .entry(class)
            .or_default()
            .entry(policy.to_string())
            .or_default() += 1;
        if class != PrivacyClass::Consenting {
            self.protected_decisions
                .insert(decision_id.to_string(), class);
        }
    }
}

/// The value at quantile `q` (0..=1) of `sorted` (nearest rank); 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_sums_the_click_probabilities_of_what_was_served() {
        let mut truth = GroundTruth::new("demo", &ModelConfig::default());
        for (matched, p, clicked) in [(true, 0.5, true), (false, 0.1, false)] {
            truth.add_impression(&ServedImpression {
                class: PrivacyClass::Consenting,
                variant: "personalized".into(),
                policy: "behavioural".into(),
                matched,
                p_click: p,
                clicked,
            });
        }
        let arm = &truth.arms["personalized"];
        assert_eq!(arm.impressions, 2);
        assert_eq!(arm.matched_impressions, 1);
        assert!((arm.expected_clicks - 0.6).abs() < 1e-12);
        assert!((arm.variance - (0.25 + 0.09)).abs() < 1e-12);
        assert_eq!(arm.simulated_clicks, 1);
        assert!((arm.expected_ctr() - 0.3).abs() < 1e-12);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
