//! Decayed interest scores by subject: every signal adds its weight, and every weight
//! halves each `half_life`. Scores are stored as of one instant and decayed on read, so an
//! update costs one pass over a handful of subjects and nothing runs in the background.

/// `0.5^(dt / half_life)`; `dt <= 0` is no decay.
pub fn decay_factor(dt_ms: i64, half_life_ms: f64) -> f64 {
    if dt_ms <= 0 {
        return 1.0;
    }
    (-(dt_ms as f64) / half_life_ms * std::f64::consts::LN_2).exp()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interests {
    /// (subject, score as of `as_of_ms`).
    scores: Vec<(String, f64)>,
    as_of_ms: i64,
}

impl Interests {
    /// Adds `weight` to `subject` for a signal at `at_ms`. A signal older than the scores
    /// (events arrive a little out of order across partitions) is decayed to their instant
    /// instead of moving them back; at most `max_subjects` are kept (the weakest goes).
    pub fn add(
        &mut self,
        subject: &str,
        weight: f64,
        at_ms: i64,
        half_life_ms: f64,
        max_subjects: usize,
    ) {
        if !(weight.is_finite() && weight > 0.0) {
            return;
        }
        let weight = if at_ms > self.as_of_ms {
            let factor = decay_factor(at_ms - self.as_of_ms, half_life_ms);
            for (_, score) in &mut self.scores {
                *score *= factor;
            }
            self.as_of_ms = at_ms;
            weight
        } else {
            weight * decay_factor(self.as_of_ms - at_ms, half_life_ms)
        };
        match self.scores.iter_mut().find(|(s, _)| s == subject) {
            Some((_, score)) => *score += weight,
            None => {
                self.scores.push((subject.to_owned(), weight));
                if self.scores.len() > max_subjects.max(1) {
                    let weakest = self
                        .scores
                        .iter()
                        .enumerate()
                        .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
                        .map(|(i, _)| i);
                    if let Some(i) = weakest {
                        self.scores.swap_remove(i);
                    }
                }
            }
        }
    }

    /// Scores decayed to `now_ms`, strongest first.
    pub fn at(&self, now_ms: i64, half_life_ms: f64) -> Vec<(String, f64)> {
        let factor = decay_factor(now_ms - self.as_of_ms, half_life_ms);
        let mut out: Vec<(String, f64)> = self
            .scores
            .iter()
            .map(|(s, v)| (s.clone(), v * factor))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

/// Each subject's share of the total (0..=1), for scores from [`Interests::at`].
pub fn shares(scores: &[(String, f64)]) -> Vec<(String, f64)> {
    let total: f64 = scores.iter().map(|(_, v)| v).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    scores.iter().map(|(s, v)| (s.clone(), v / total)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const HL: f64 = 7.0 * DAY as f64;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_signal_weighs_half_after_one_half_life_and_a_quarter_after_two() {
        let mut i = Interests::default();
        i.add("Mathematics", 4.0, 0, HL, 8);
        assert!(close(i.at(0, HL)[0].1, 4.0));
        assert!(close(i.at(7 * DAY, HL)[0].1, 2.0));
        assert!(close(i.at(14 * DAY, HL)[0].1, 1.0));
    }

    #[test]
    fn a_fresh_interest_overtakes_an_old_stronger_one() {
        let mut i = Interests::default();
        i.add("Mathematics", 4.0, 0, HL, 8);
        i.add("Physics", 2.0, 14 * DAY, HL, 8);
        let now = i.at(14 * DAY, HL);
        assert_eq!(now[0].0, "Physics");
        assert!(close(now[1].1, 1.0));
        // An out-of-order older event is decayed to the profile's instant.
        i.add("Chemistry", 2.0, 7 * DAY, HL, 8);
        let chem = i.at(14 * DAY, HL);
        assert!(close(
            chem.iter().find(|s| s.0 == "Chemistry").unwrap().1,
            1.0
        ));
    }

    #[test]
    fn the_weakest_subject_goes_beyond_the_cap_and_bad_weights_are_ignored() {
        let mut i = Interests::default();
        i.add("A", 3.0, 0, HL, 2);
        i.add("B", 1.0, 0, HL, 2);
        i.add("C", 2.0, 0, HL, 2);
        let names: Vec<String> = i.at(0, HL).into_iter().map(|s| s.0).collect();
        assert_eq!(names, ["A", "C"]);
        i.add("D", f64::NAN, 0, HL, 2);
        i.add("D", -1.0, 0, HL, 2);
        assert_eq!(i.at(0, HL).len(), 2);
        let s = shares(&i.at(0, HL));
        assert!(close(s[0].1, 0.6));
    }
}
