//! Visitor profiles and subject popularity, in memory, bounded.
//!
//! - A profile per (site, visitor key): decayed interests, the number of events folded in
//!   (`profile_events` of a decision: how fresh it is), and the day's frequency-cap counts.
//! - Popularity per (site), (site, college) and (site, cohort): the same decayed scores,
//!   summed over the profiled visitors, for visitors without history.
//!
//! Sharded by key hash so the consumer and the HTTP workers rarely wait for each other.
//! Only events that passed the write-side privacy rule (`signals::profiling_allowed`) reach
//! [`ProfileStore::fold`]; the read side is the caller's (`request::Privacy`).

use std::{
    collections::{HashMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{config::ProfilesConfig, interests::Interests, lru::Lru, time::utc_day};

const SHARDS: usize = 16;

#[derive(Debug, Default)]
struct Profile {
    interests: Interests,
    events: u64,
    /// (UTC day, creative id, decisions that day).
    caps: Vec<(i64, String, u32)>,
}

/// What a decision reads of a profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileView {
    /// Decayed scores, strongest first.
    pub scores: Vec<(String, f64)>,
    pub events: u64,
}

pub struct ProfileStore {
    profiles: Vec<Mutex<Lru<Profile>>>,
    popularity: Mutex<Lru<Interests>>,
    half_life_ms: f64,
    max_subjects: usize,
    evictions: AtomicU64,
    updates: AtomicU64,
    /// Erased visitor keys → the erasure request's time: their events up to then are
    /// never folded again (the topics still hold them until retention drops them).
    erased: Mutex<HashMap<String, i64>>,
}

fn key(site: &str, visitor: &str) -> String {
    // A unit separator cannot occur in a validated site key.
    format!("{site}\u{1f}{visitor}")
}

fn shard_of(key: &str) -> usize {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProfileStore {
    pub fn new(config: &ProfilesConfig) -> Self {
        let per_shard = config.max_profiles.div_ceil(SHARDS).max(1);
        Self {
            profiles: (0..SHARDS)
                .map(|_| Mutex::new(Lru::new(per_shard)))
                .collect(),
            popularity: Mutex::new(Lru::new(config.max_popularity_groups)),
            half_life_ms: config.half_life_s as f64 * 1000.0,
            max_subjects: config.max_subjects_per_profile,
            evictions: AtomicU64::new(0),
            updates: AtomicU64::new(0),
            erased: Mutex::new(HashMap::new()),
        }
    }

    /// Folds one profiled event into the visitor's profile and the popularity of its site,
    /// college and cohort: `signals` are (subject, weight) at `at_ms`. `false`: not folded,
    /// the visitor was erased after this event.
    pub fn fold(
        &self,
        site: &str,
        visitor: &str,
        college: &str,
        cohort: &str,
        signals: &[(String, f64)],
        at_ms: i64,
    ) -> bool {
        let k = key(site, visitor);
        if lock(&self.erased)
            .get(&k)
            .is_some_and(|until| at_ms <= *until)
        {
            return false;
        }
        {
            let mut shard = lock(&self.profiles[shard_of(&k)]);
            let (profile, evicted) = shard.touch(&k, Profile::default);
            profile.events += 1;
            for (subject, weight) in signals {
                profile.interests.add(
                    subject,
                    *weight,
                    at_ms,
                    self.half_life_ms,
                    self.max_subjects,
                );
            }
            if evicted {
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.updates.fetch_add(1, Ordering::Relaxed);
        if signals.is_empty() {
            return true;
        }
        let mut popularity = lock(&self.popularity);
        for group in groups(site, college, cohort).into_iter().flatten() {
            let (interests, _) = popularity.touch(&group, Interests::default);
            for (subject, weight) in signals {
                interests.add(subject, *weight, at_ms, self.half_life_ms, usize::MAX);
            }
        }
        true
    }

    /// An erasure request (`sightline-admin erase`): the visitor's profile and caps are
    /// dropped, and their events up to `requested_at_ms` are not folded again. Popularity
    /// is an aggregate over many visitors and keeps its (decaying) share.
    pub fn erase(&self, site: &str, visitor: &str, requested_at_ms: i64) {
        let k = key(site, visitor);
        lock(&self.profiles[shard_of(&k)]).remove(&k);
        let mut erased = lock(&self.erased);
        let until = erased.entry(k).or_insert(requested_at_ms);
        *until = (*until).max(requested_at_ms);
    }

    /// The visitor's profile as of `now_ms`; `None` when there is none.
    pub fn read(&self, site: &str, visitor: &str, now_ms: i64) -> Option<ProfileView> {
        let k = key(site, visitor);
        let shard = lock(&self.profiles[shard_of(&k)]);
        shard.peek(&k).map(|p| ProfileView {
            scores: p.interests.at(now_ms, self.half_life_ms),
            events: p.events,
        })
    }

    /// Popularity of subjects for a visitor of `college` / `cohort` (either may be empty):
    /// (college, cohort, site) scores as of `now_ms`, each decayed.
    pub fn popularity(
        &self,
        site: &str,
        college: &str,
        cohort: &str,
        now_ms: i64,
    ) -> [Vec<(String, f64)>; 3] {
        let popularity = lock(&self.popularity);
        let [site_key, college_key, cohort_key] = groups(site, college, cohort);
        let read = |k: Option<String>| {
            k.and_then(|k| popularity.peek(&k).map(|i| i.at(now_ms, self.half_life_ms)))
                .unwrap_or_default()
        };
        [read(college_key), read(cohort_key), read(site_key)]
    }

    /// Frequency caps: of `candidates` (creative id, daily cap), those the visitor may
    /// still be shown today. Cap 0 is uncapped.
    pub fn under_cap(&self, site: &str, visitor: &str, day: i64, id: &str, cap: u32) -> bool {
        if cap == 0 {
            return true;
        }
        let k = key(site, visitor);
        let shard = lock(&self.profiles[shard_of(&k)]);
        shard.peek(&k).is_none_or(|p| {
            p.caps
                .iter()
                .find(|(d, c, _)| *d == day && c == id)
                .is_none_or(|(_, _, n)| *n < cap)
        })
    }

    /// Counts one decision of each creative in `ids` for the visitor today.
    pub fn count_served(&self, site: &str, visitor: &str, now_ms: i64, ids: &[&str]) {
        let day = utc_day(now_ms);
        let k = key(site, visitor);
        let mut shard = lock(&self.profiles[shard_of(&k)]);
        let (profile, evicted) = shard.touch(&k, Profile::default);
        profile.caps.retain(|(d, _, _)| *d == day);
        for id in ids {
            match profile.caps.iter_mut().find(|(_, c, _)| c == id) {
                Some((_, _, n)) => *n = n.saturating_add(1),
                None => profile.caps.push((day, (*id).to_owned(), 1)),
            }
        }
        if evicted {
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn len(&self) -> usize {
        self.profiles.iter().map(|s| lock(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }
}

/// Popularity group keys: site, site + college, site + cohort (absent when empty).
fn groups(site: &str, college: &str, cohort: &str) -> [Option<String>; 3] {
    [
        Some(format!("{site}\u{1f}")),
        (!college.is_empty()).then(|| format!("{site}\u{1f}college\u{1f}{college}")),
        (!cohort.is_empty()).then(|| format!("{site}\u{1f}cohort\u{1f}{cohort}")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn store(max: usize) -> ProfileStore {
        ProfileStore::new(&ProfilesConfig {
            max_profiles: max,
            ..ProfilesConfig::default()
        })
    }

    fn math() -> Vec<(String, f64)> {
        vec![("Mathematics".to_owned(), 2.0)]
    }

    #[test]
    fn folded_events_build_a_profile_and_popularity() {
        let s = store(100);
        s.fold("demo", "u1", "IIT Madras", "CSE", &math(), 0);
        s.fold("demo", "u1", "IIT Madras", "CSE", &[], 0);
        let view = s.read("demo", "u1", 7 * DAY).unwrap();
        assert_eq!(view.events, 2);
        assert!((view.scores[0].1 - 1.0).abs() < 1e-9);
        assert!(s.read("other", "u1", 0).is_none());
        let [college, cohort, site] = s.popularity("demo", "IIT Madras", "", 0);
        assert_eq!(college[0].0, "Mathematics");
        assert!(cohort.is_empty());
        assert_eq!(site[0].0, "Mathematics");
    }

    #[test]
    fn an_erased_visitor_is_forgotten_and_their_older_events_stay_out() {
        let s = store(100);
        s.fold("demo", "u1", "", "", &math(), 10);
        s.erase("demo", "u1", 20);
        assert!(s.read("demo", "u1", 30).is_none());
        // A replayed event from before the request is not folded; a later one is.
        assert!(!s.fold("demo", "u1", "", "", &math(), 15));
        assert!(s.read("demo", "u1", 30).is_none());
        assert!(s.fold("demo", "u1", "", "", &math(), 25));
        assert_eq!(s.read("demo", "u1", 30).map(|v| v.events), Some(1));
    }

    #[test]
    fn memory_is_bounded_and_evictions_are_counted() {
        let s = store(16);
        for n in 0..200 {
            s.fold("demo", &format!("u{n}"), "", "", &math(), 0);
        }
        assert!(s.len() <= 16, "{} profiles", s.len());
        assert!(s.evictions() >= 184);
    }

    #[test]
    fn caps_count_per_creative_and_reset_with_the_day() {
        let s = store(100);
        assert!(s.under_cap("demo", "u1", 0, "ad", 2));
        s.count_served("demo", "u1", 10, &["ad"]);
        s.count_served("demo", "u1", 20, &["ad"]);
        assert!(!s.under_cap("demo", "u1", 0, "ad", 2));
        assert!(s.under_cap("demo", "u1", 0, "other", 2));
        assert!(s.under_cap("demo", "u1", 0, "ad", 0));
        assert!(s.under_cap("demo", "u1", 1, "ad", 2));
        s.count_served("demo", "u1", DAY + 1, &["ad"]);
        assert!(s.under_cap("demo", "u1", 1, "ad", 2));
    }
}
