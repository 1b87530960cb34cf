//! The IAB/MRC display viewability rule as a state machine, fed with visible fractions
//! (from IntersectionObserver), page activity (visible and focused) and the clock.
//!
//! Rule: at least 50 % of the ad's pixels in view for at least 1 continuous second; ads of
//! 242,500 px² or more need 30 %. Time only accrues while the page is visible and focused and,
//! where IntersectionObserver v2 can tell, while the ad is not covered.

/// Area from which the large-ad (30 %) rule applies, in CSS px².
pub const LARGE_AD_AREA: f64 = 242_500.0;
/// Continuous time in view the rule requires.
pub const REQUIRED_CONTINUOUS_MS: f64 = 1_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Display50,
    Large30,
}

impl Rule {
    pub fn for_size(width: f64, height: f64) -> Rule {
        if width * height >= LARGE_AD_AREA {
            Rule::Large30
        } else {
            Rule::Display50
        }
    }

    pub fn threshold(self) -> f64 {
        match self {
            Rule::Display50 => 0.5,
            Rule::Large30 => 0.3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Viewability {
    pub rule: Rule,
    fraction: f64,
    pub max_fraction: f64,
    page_active: bool,
    /// IntersectionObserver v2's verdict; `None` where the browser cannot tell.
    pub actually_visible: Option<bool>,
    in_view_since: Option<f64>,
    closed_ms: f64,
    max_continuous_ms: f64,
    pub first_seen_ms: Option<f64>,
    pub viewable_at_ms: Option<f64>,
}

/// Final totals of one impression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub in_view_ms: f64,
    pub max_continuous_ms: f64,
    pub max_fraction: f64,
    pub viewable: bool,
    pub time_to_viewable_ms: f64,
}

impl Viewability {
    pub fn new(rule: Rule, page_active: bool) -> Viewability {
        Viewability {
            rule,
            fraction: 0.0,
            max_fraction: 0.0,
            page_active,
            actually_visible: None,
            in_view_since: None,
            closed_ms: 0.0,
            max_continuous_ms: 0.0,
            first_seen_ms: None,
            viewable_at_ms: None,
        }
    }

    fn meets(&self) -> bool {
        self.page_active
            && self.fraction >= self.rule.threshold()
            && self.actually_visible != Some(false)
    }

    /// Brings the open stretch up to `now`; true when this made the ad viewable.
    fn accrue(&mut self, now: f64) -> bool {
        let Some(since) = self.in_view_since else {
            return false;
        };
        let stretch = (now - since).max(0.0);
        self.max_continuous_ms = self.max_continuous_ms.max(stretch);
        if self.viewable_at_ms.is_none() && stretch >= REQUIRED_CONTINUOUS_MS {
            self.viewable_at_ms = Some(since + REQUIRED_CONTINUOUS_MS);
            return true;
        }
        false
    }

    /// Applies a change at `now`; true when the ad became viewable during the time before it.
    fn change(&mut self, now: f64, apply: impl FnOnce(&mut Self)) -> bool {
        let became = self.accrue(now);
        let before = self.meets();
        apply(self);
        let after = self.meets();
        if before && !after {
            if let Some(since) = self.in_view_since.take() {
                self.closed_ms += (now - since).max(0.0);
            }
        } else if !before && after {
            self.in_view_since = Some(now);
        }
        became
    }

    /// New visible fraction (0..1) of the ad, and IO v2's visibility verdict if known.
    pub fn set_fraction(
        &mut self,
        now: f64,
        fraction: f64,
        actually_visible: Option<bool>,
    ) -> bool {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if fraction > 0.0 && self.first_seen_ms.is_none() {
            self.first_seen_ms = Some(now);
        }
        self.max_fraction = self.max_fraction.max(fraction);
        self.change(now, |state| {
            state.fraction = fraction;
            if actually_visible.is_some() {
                state.actually_visible = actually_visible;
            }
        })
    }

    /// The page became visible+focused (`true`) or hidden/unfocused (`false`).
    pub fn set_page_active(&mut self, now: f64, active: bool) -> bool {
        self.change(now, |state| state.page_active = active)
    }

    /// Timer callback; true when the ad became viewable.
    pub fn tick(&mut self, now: f64) -> bool {
        self.accrue(now)
    }

    /// When a timer should fire to catch the ad becoming viewable, if it can now.
    pub fn viewable_due(&self) -> Option<f64> {
        match (self.viewable_at_ms, self.in_view_since) {
            (None, Some(since)) => Some(since + REQUIRED_CONTINUOUS_MS),
            _ => None,
        }
    }

    pub fn is_viewable(&self) -> bool {
        self.viewable_at_ms.is_some()
    }

    /// Totals as of `now` (the open stretch counted up to `now`).
    pub fn totals(&mut self, now: f64) -> Totals {
        self.accrue(now);
        let open = self
            .in_view_since
            .map_or(0.0, |since| (now - since).max(0.0));
        Totals {
            in_view_ms: self.closed_ms + open,
            max_continuous_ms: self.max_continuous_ms,
            max_fraction: self.max_fraction,
            viewable: self.viewable_at_ms.is_some(),
            time_to_viewable_ms: match (self.viewable_at_ms, self.first_seen_ms) {
                (Some(at), Some(first)) => (at - first).max(0.0),
                _ => 0.0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_visible_for_a_continuous_second_is_viewable() {
        let mut ad = Viewability::new(Rule::for_size(300.0, 250.0), true);
        assert_eq!(ad.rule, Rule::Display50);
        assert!(!ad.set_fraction(0.0, 0.49, None));
        assert!(!ad.set_fraction(100.0, 0.5, None));
        assert_eq!(ad.viewable_due(), Some(1100.0));
        assert!(!ad.tick(1099.0));
        assert!(ad.tick(1100.0));
        assert!(!ad.tick(1200.0), "becomes viewable once");
        let totals = ad.totals(1600.0);
        assert!(totals.viewable);
        assert_eq!(totals.in_view_ms, 1500.0);
        assert_eq!(totals.time_to_viewable_ms, 1100.0);
    }

    #[test]
    fn interrupted_stretches_add_up_but_are_not_continuous() {
        let mut ad = Viewability::new(Rule::Display50, true);
        ad.set_fraction(0.0, 1.0, None);
        ad.set_fraction(600.0, 0.2, None);
        ad.set_fraction(1000.0, 0.8, None);
        ad.set_fraction(1700.0, 0.0, None);
        let totals = ad.totals(5000.0);
        assert!(!totals.viewable);
        assert_eq!(totals.in_view_ms, 1300.0);
        assert_eq!(totals.max_continuous_ms, 700.0);
        assert_eq!(totals.max_fraction, 1.0);
        assert_eq!(totals.time_to_viewable_ms, 0.0);
    }

    #[test]
    fn hidden_or_unfocused_page_stops_the_clock() {
        let mut ad = Viewability::new(Rule::Display50, true);
        ad.set_fraction(0.0, 1.0, None);
        ad.set_page_active(800.0, false);
        assert_eq!(ad.viewable_due(), None);
        assert!(!ad.tick(5000.0));
        ad.set_page_active(5000.0, true);
        assert!(!ad.tick(5900.0));
        assert!(ad.tick(6000.0));
        let totals = ad.totals(6000.0);
        assert_eq!(totals.in_view_ms, 1800.0);
        assert_eq!(totals.max_continuous_ms, 1000.0);
    }

    #[test]
    fn a_change_after_the_second_reports_viewable_without_a_timer() {
        let mut ad = Viewability::new(Rule::Display50, true);
        ad.set_fraction(0.0, 0.6, None);
        assert!(ad.set_fraction(1500.0, 0.1, None));
        assert_eq!(ad.viewable_at_ms, Some(1000.0));
    }

    #[test]
    fn large_ads_need_thirty_percent() {
        let mut billboard = Viewability::new(Rule::for_size(970.0, 250.0), true);
        assert_eq!(billboard.rule, Rule::Large30);
        billboard.set_fraction(0.0, 0.35, None);
        assert!(billboard.tick(1000.0));
        let mut small = Viewability::new(Rule::for_size(970.0, 249.0), true);
        assert_eq!(small.rule, Rule::Display50);
        small.set_fraction(0.0, 0.35, None);
        assert!(!small.tick(1000.0));
    }

    #[test]
    fn covered_ads_do_not_accrue() {
        let mut ad = Viewability::new(Rule::Display50, true);
        ad.set_fraction(0.0, 1.0, Some(false));
        assert!(!ad.tick(2000.0));
        // Uncovered later: the clock starts then.
        ad.set_fraction(2000.0, 1.0, Some(true));
        assert!(ad.tick(3000.0));
        // A fraction update without an IO v2 verdict keeps the last verdict.
        ad.set_fraction(3100.0, 0.9, None);
        assert_eq!(ad.actually_visible, Some(true));
    }

    #[test]
    fn garbage_fractions_are_harmless() {
        let mut ad = Viewability::new(Rule::Display50, false);
        ad.set_fraction(0.0, f64::NAN, None);
        ad.set_fraction(1.0, 7.0, None);
        assert_eq!(ad.max_fraction, 1.0);
        assert!(!ad.tick(10_000.0), "inactive page never accrues");
    }
}
