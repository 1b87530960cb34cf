//! Sophisticated invalid traffic (SIVT): behaviour no single event shows, from bounded
//! per-user and per-address state (like the rate limiters: capped key counts, idle keys
//! forgotten by the cleanup task). Times are the caller's — the request's receive time and
//! each event's corrected time — so the rules are tested with any clock.
//!
//! The state lives in one collector process. Behind a balancer that spreads one visitor's
//! requests over several collectors, each sees part of the story: `click_without_impression`
//! then needs the balancer to keep a client on one collector (HAProxy `balance source`, or
//! the SDK's keep-alive connection), and the counting rules see a fraction of the rate.

use std::{
    collections::{HashMap, VecDeque},
    hash::{DefaultHasher, Hash, Hasher},
    net::IpAddr,
    sync::{Mutex, MutexGuard},
};

use sightline_proto::v1::{AdClick, ImpressionPhase, IvtReason, event::Kind};

use super::Verdict;
use crate::{config::IvtConfig, payload::AcceptedEvent};

/// Clicks and positions remembered per user, whatever the thresholds (bounds memory).
const MAX_RECENT_CLICKS: usize = 64;

pub struct Sivt {
    config: IvtConfig,
    users: Mutex<HashMap<String, UserState>>,
    addresses: Mutex<HashMap<IpAddr, AddressWindow>>,
}

#[derive(Default)]
struct UserState {
    last_ms: i64,
    /// Most recent last.
    page_views: VecDeque<PageViewState>,
    /// Event times of recent ad clicks, oldest first.
    clicks: VecDeque<i64>,
    /// In-ad positions of recent ad clicks.
    positions: VecDeque<(i32, i32)>,
}

struct PageViewState {
    id: u64,
    /// When the page view started (its `PageView` event), if seen.
    started_ms: Option<i64>,
    /// (impression id, when the ad was first seen).
    impressions: Vec<(u64, i64)>,
}

/// Distinct anonymous ids of one address in a fixed window.
struct AddressWindow {
    start_ms: i64,
    /// Hashes, at most `ip_max_anonymous_ids` (beyond, the window is over the limit and
    /// new ids are flagged without being stored).
    ids: Vec<u64>,
}

fn hash_of(bytes: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps inconsistent in a way that
    // matters (worst case one user's state is partial): keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The address an `ip_many_ids` window is kept for: IPv6 per /64 (one household or phone
/// owns a /64, and rotating within it is free).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
        v4 => v4,
    }
}

impl Sivt {
    pub fn new(config: &IvtConfig) -> Self {
        Self {
            config: config.clone(),
            users: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    /// Observes one accepted batch (all of one user, from one address, in order) and adds
    /// the SIVT reasons to each event's verdict in `verdicts` (same index as `events`).
    pub fn observe(
        &self,
        user_key: &str,
        anonymous_id: &str,
        client: IpAddr,
        received_at_ms: i64,
        events: &[AcceptedEvent],
        verdicts: &mut [Verdict],
    ) {
        if self.address_over_limit(client, anonymous_id, received_at_ms) {
            for v in verdicts.iter_mut() {
                v.add(IvtReason::IpManyIds);
            }
        }
        if user_key.is_empty() {
            return;
        }
        let mut users = lock(&self.users);
        if !users.contains_key(user_key) {
            if users.len() >= self.config.max_tracked_users {
                return; // untracked until idle users are forgotten: no stateful verdict
            }
            users.insert(user_key.to_owned(), UserState::default());
        }
        let Some(user) = users.get_mut(user_key) else {
            return;
        };
        user.last_ms = received_at_ms;
        for (event, verdict) in events.iter().zip(verdicts.iter_mut()) {
            let page_view = hash_of(&event.event.page_view_id);
            let time = event.event_time_ms;
            match &event.event.kind {
                Some(Kind::PageView(_)) => {
                    self.page_view(user, page_view)
                        .started_ms
                        .get_or_insert(time);
                }
                Some(Kind::AdImpression(imp)) => {
                    // A VIEWABLE impression is sent when the rule was met; the ad was first
                    // seen `time_to_viewable_ms` earlier.
                    let first_seen = if imp.phase == ImpressionPhase::Viewable as i32 {
                        time.saturating_sub(i64::from(imp.time_to_viewable_ms))
                    } else {
                        time
                    };
                    let id = hash_of(&imp.impression_id);
                    let cap = self.config.max_impressions_per_page_view;
                    let pv = self.page_view(user, page_view);
                    let full = pv.impressions.len() >= cap;
                    match pv.impressions.iter_mut().find(|(i, _)| *i == id) {
                        Some((_, seen)) => *seen = (*seen).min(first_seen),
                        None if !full => pv.impressions.push((id, first_seen)),
                        None => {}
                    }
                }
                Some(Kind::AdClick(click)) => {
                    verdict.merge(self.click(user, page_view, time, click));
                }
                _ => {}
            }
        }
    }

    /// The state of page view `id`, created if new (the oldest is forgotten beyond
    /// `max_page_views_per_user`).
    fn page_view<'a>(&self, user: &'a mut UserState, id: u64) -> &'a mut PageViewState {
        let at = match user.page_views.iter().position(|p| p.id == id) {
            Some(at) => at,
            None => {
                if user.page_views.len() >= self.config.max_page_views_per_user {
                    user.page_views.pop_front();
                }
                user.page_views.push_back(PageViewState {
                    id,
                    started_ms: None,
                    impressions: Vec::new(),
                });
                user.page_views.len() - 1
            }
        };
        &mut user.page_views[at]
    }

    fn click(&self, user: &mut UserState, page_view: u64, time: i64, click: &AdClick) -> Verdict {
        let c = &self.config;
        let mut v = Verdict::default();
        let impression = hash_of(&click.impression_id);
        let (seen_at, started_ms) = {
            let pv = self.page_view(user, page_view);
            let seen = (!click.impression_id.is_empty())
                .then(|| pv.impressions.iter().find(|(i, _)| *i == impression))
                .flatten()
                .map(|(_, t)| *t);
            (seen, pv.started_ms)
        };
        if seen_at.is_none() {
            v.add(IvtReason::ClickWithoutImpression);
        }
        if c.click_min_visible_ms > 0 {
            let min = i64::try_from(c.click_min_visible_ms).unwrap_or(i64::MAX);
            // The earliest the ad can have been seen: its impression, else its page view;
            // without either, the client's own measure (since it became viewable).
            let since = match seen_at.or(started_ms) {
                Some(t) => Some(time.saturating_sub(t)),
                None => (click.since_viewable_ms >= 0).then_some(click.since_viewable_ms),
            };
            if since.is_some_and(|s| s < min) {
                v.add(IvtReason::ClickTooFast);
            }
        }
        if c.click_burst_max > 0 {
            let window = i64::try_from(c.click_burst_window_ms).unwrap_or(i64::MAX);
            while user
                .clicks
                .front()
                .is_some_and(|t| *t <= time.saturating_sub(window))
            {
                user.clicks.pop_front();
            }
            if user.clicks.len() >= MAX_RECENT_CLICKS {
                user.clicks.pop_front();
            }
            user.clicks.push_back(time);
            let in_window = user
                .clicks
                .iter()
                .filter(|t| **t > time.saturating_sub(window))
                .count();
            if in_window > c.click_burst_max as usize {
                v.add(IvtReason::ClickBurst);
            }
        }
        if c.repeated_click_position_max > 0
            && let Some(p) = &click.in_ad
        {
            let position = (p.x, p.y);
            let before = user.positions.iter().filter(|q| **q == position).count();
            if user.positions.len() >= MAX_RECENT_CLICKS {
                user.positions.pop_front();
            }
            user.positions.push_back(position);
            if before + 1 > c.repeated_click_position_max as usize {
                v.add(IvtReason::RepeatedClickPosition);
            }
        }
        v
    }

    /// Counts `anonymous_id` for the client's address; true when the address is over
    /// `ip_max_anonymous_ids` in the current window and this id is one of those beyond.
    fn address_over_limit(&self, client: IpAddr, anonymous_id: &str, now_ms: i64) -> bool {
        let c = &self.config;
        if c.ip_max_anonymous_ids == 0 || anonymous_id.is_empty() {
            return false;
        }
        let window = i64::try_from(c.ip_window_ms).unwrap_or(i64::MAX);
        let key = address_key(client);
        let id = hash_of(anonymous_id);
        let mut addresses = lock(&self.addresses);
        if !addresses.contains_key(&key) && addresses.len() >= c.max_tracked_ips {
            return false;
        }
        let w = addresses.entry(key).or_insert(AddressWindow {
            start_ms: now_ms,
            ids: Vec::new(),
        });
        if now_ms.saturating_sub(w.start_ms) >= window {
            w.start_ms = now_ms;
            w.ids.clear();
        }
        if w.ids.contains(&id) {
            return false;
        }
        if w.ids.len() < c.ip_max_anonymous_ids as usize {
            w.ids.push(id);
            return false;
        }
        true
    }

    /// Forgets users idle for `state_ttl_ms` and address windows that ended (the cleanup
    /// task calls it with the current time).
    pub fn forget_idle(&self, now_ms: i64) {
        let ttl = i64::try_from(self.config.state_ttl_ms).unwrap_or(i64::MAX);
        lock(&self.users).retain(|_, u| now_ms.saturating_sub(u.last_ms) < ttl);
        let window = i64::try_from(self.config.ip_window_ms).unwrap_or(i64::MAX);
        lock(&self.addresses).retain(|_, w| now_ms.saturating_sub(w.start_ms) < window);
    }

    /// (users, addresses) tracked now.
    pub fn tracked(&self) -> (usize, usize) {
        (lock(&self.users).len(), lock(&self.addresses).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::v1::{AdImpression, Event, PageView, Point};

    const T0: i64 = 1_700_000_000_000;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn accepted(kind: Kind, page_view: u8, time: i64) -> AcceptedEvent {
        AcceptedEvent {
            event: Event {
                page_view_id: vec![page_view; 16],
                kind: Some(kind),
                ..Default::default()
            },
            kind: 0,
            event_time_ms: time,
            ivt: Verdict::default(),
            pii_redactions: 0,
        }
    }

    fn page_view(pv: u8, time: i64) -> AcceptedEvent {
        accepted(Kind::PageView(PageView::default()), pv, time)
    }

    fn impression(pv: u8, id: u8, time: i64, time_to_viewable_ms: u32) -> AcceptedEvent {
        accepted(
            Kind::AdImpression(AdImpression {
                impression_id: vec![id; 16],
                phase: ImpressionPhase::Viewable as i32,
                time_to_viewable_ms,
                ..Default::default()
            }),
            pv,
            time,
        )
    }

    fn click(pv: u8, id: u8, time: i64, at: (i32, i32)) -> AcceptedEvent {
        accepted(
            Kind::AdClick(AdClick {
                impression_id: vec![id; 16],
                in_ad: Some(Point { x: at.0, y: at.1 }),
                since_viewable_ms: -1,
                ..Default::default()
            }),
            pv,
            time,
        )
    }

    /// Runs one batch for `user` from `addr`; the reasons of each event.
    fn run(s: &Sivt, user: &str, addr: &str, events: &[AcceptedEvent]) -> Vec<Vec<IvtReason>> {
        let mut verdicts = vec![Verdict::default(); events.len()];
        let now = events.iter().map(|e| e.event_time_ms).max().unwrap_or(T0);
        s.observe(user, user, ip(addr), now, events, &mut verdicts);
        verdicts
            .iter()
            .map(|v| {
                v.values()
                    .map(|r| IvtReason::try_from(r).unwrap_or_default())
                    .collect()
            })
            .collect()
    }

    fn human_session() -> Vec<AcceptedEvent> {
        vec![
            page_view(1, T0),
            impression(1, 7, T0 + 3_000, 1_200),
            click(1, 7, T0 + 6_000, (120, 40)),
        ]
    }

    #[test]
    fn a_human_click_after_a_viewable_impression_is_valid() {
        let s = Sivt::new(&IvtConfig::default());
        assert!(
            run(&s, "u1", "192.0.2.1", &human_session())
                .iter()
                .all(Vec::is_empty)
        );
        assert_eq!(s.tracked(), (1, 1));
    }

    #[test]
    fn click_without_impression_even_across_batches_it_needs_the_impression_first() {
        let s = Sivt::new(&IvtConfig::default());
        run(&s, "u1", "192.0.2.1", &[page_view(1, T0)]);
        let r = run(&s, "u1", "192.0.2.1", &[click(1, 9, T0 + 5_000, (1, 1))]);
        assert_eq!(r[0], vec![IvtReason::ClickWithoutImpression]);
        // The impression of another page view does not count.
        run(&s, "u2", "192.0.2.2", &[impression(2, 9, T0, 1_000)]);
        let r = run(&s, "u2", "192.0.2.2", &[click(3, 9, T0 + 5_000, (1, 1))]);
        assert_eq!(r[0], vec![IvtReason::ClickWithoutImpression]);
        // An impression seen in an earlier batch counts.
        let r = run(&s, "u2", "192.0.2.2", &[click(2, 9, T0 + 5_000, (2, 2))]);
        assert!(r[0].is_empty(), "{r:?}");
    }

    #[test]
    fn click_too_fast_after_the_ad_or_the_page_appeared() {
        let s = Sivt::new(&IvtConfig::default()); // 500 ms
        // Ad first seen at T0 + 1000 (viewable at +2000 after 1000 ms); clicked at +1300.
        let r = run(
            &s,
            "u1",
            "192.0.2.1",
            &[
                impression(1, 7, T0 + 2_000, 1_000),
                click(1, 7, T0 + 1_300, (5, 5)),
            ],
        );
        assert_eq!(r[1], vec![IvtReason::ClickTooFast]);
        let r = run(&s, "u1", "192.0.2.1", &[click(1, 7, T0 + 1_500, (6, 6))]);
        assert!(r[0].is_empty(), "exactly the threshold is human: {r:?}");
        // No impression: measured from the page view's start (the scripted clicker's 50 ms).
        let r = run(
            &s,
            "u2",
            "192.0.2.2",
            &[page_view(4, T0), click(4, 8, T0 + 50, (5, 5))],
        );
        assert_eq!(
            r[1],
            vec![IvtReason::ClickWithoutImpression, IvtReason::ClickTooFast]
        );
        // Nothing server-side: the client's own measure.
        let mut fast = click(5, 8, T0, (9, 9));
        if let Some(Kind::AdClick(c)) = &mut fast.event.kind {
            c.since_viewable_ms = 100;
        }
        let r = run(&s, "u3", "192.0.2.3", &[fast]);
        assert_eq!(
            r[0],
            vec![IvtReason::ClickWithoutImpression, IvtReason::ClickTooFast]
        );
        let off = Sivt::new(&IvtConfig {
            click_min_visible_ms: 0,
            ..Default::default()
        });
        let r = run(
            &off,
            "u2",
            "192.0.2.2",
            &[page_view(4, T0), click(4, 8, T0 + 50, (5, 5))],
        );
        assert_eq!(r[1], vec![IvtReason::ClickWithoutImpression]);
    }

    #[test]
    fn click_bursts_beyond_a_human_rate() {
        let s = Sivt::new(&IvtConfig::default()); // > 5 in 10 s
        let mut events = vec![page_view(1, T0)];
        for i in 0..8u8 {
            events.push(impression(1, i, T0 + 1_000, 1_000));
        }
        // 20 clicks per second: the 6th and later are a burst.
        for i in 0..8u8 {
            events.push(click(
                1,
                i,
                T0 + 5_000 + i64::from(i) * 50,
                (i32::from(i), 0),
            ));
        }
        let r = run(&s, "u1", "192.0.2.1", &events);
        let bursts: Vec<bool> = r[9..]
            .iter()
            .map(|x| x.contains(&IvtReason::ClickBurst))
            .collect();
        assert_eq!(
            bursts,
            vec![false, false, false, false, false, true, true, true]
        );
        // The window slides: 10 s later one click is fine again.
        let r = run(&s, "u1", "192.0.2.1", &[click(1, 0, T0 + 16_000, (50, 50))]);
        assert!(!r[0].contains(&IvtReason::ClickBurst), "{r:?}");
        // Another user is not affected.
        let r = run(&s, "u2", "192.0.2.1", &human_session());
        assert!(r.iter().all(Vec::is_empty));
    }

    #[test]
    fn many_anonymous_ids_from_one_address() {
        let config = IvtConfig {
            ip_max_anonymous_ids: 3,
            ..Default::default()
        };
        let s = Sivt::new(&config);
        for user in ["a", "b", "c", "a"] {
            let r = run(&s, user, "198.51.100.7", &[page_view(1, T0)]);
            assert!(r[0].is_empty(), "{user}");
        }
        let r = run(
            &s,
            "d",
            "198.51.100.7",
            &[page_view(1, T0), page_view(2, T0)],
        );
        assert_eq!(r, vec![vec![IvtReason::IpManyIds]; 2]);
        // Another address, and IPv6 per /64.
        assert!(run(&s, "d", "198.51.100.8", &[page_view(1, T0)])[0].is_empty());
        for user in ["a", "b", "c"] {
            run(
                &s,
                user,
                &format!("2001:db8::{}", user.len() + user.as_bytes()[0] as usize),
                &[page_view(1, T0)],
            );
        }
        assert_eq!(
            run(&s, "d", "2001:db8::ffff", &[page_view(1, T0)])[0],
            vec![IvtReason::IpManyIds]
        );
        // A new window starts over.
        let later = [page_view(1, T0 + 60_000)];
        assert!(run(&s, "e", "198.51.100.7", &later)[0].is_empty());
    }

    #[test]
    fn the_same_click_position_over_and_over() {
        let s = Sivt::new(&IvtConfig::default()); // more than 2
        let mut events = vec![page_view(1, T0)];
        for i in 0..3u8 {
            events.push(impression(1, i, T0, 1_000));
        }
        for i in 0..3u8 {
            events.push(click(1, i, T0 + 60_000 * i64::from(i + 1), (42, 17)));
        }
        let r = run(&s, "u1", "192.0.2.1", &events);
        assert!(r[4].is_empty() && r[5].is_empty(), "{r:?}");
        assert_eq!(r[6], vec![IvtReason::RepeatedClickPosition]);
    }

    #[test]
    fn state_is_bounded_and_forgotten() {
        let config = IvtConfig {
            max_tracked_users: 2,
            max_tracked_ips: 2,
            max_page_views_per_user: 2,
            max_impressions_per_page_view: 1,
            ..Default::default()
        };
        let s = Sivt::new(&config);
        run(&s, "u1", "192.0.2.1", &[page_view(1, T0)]);
        run(&s, "u2", "192.0.2.2", &[page_view(1, T0)]);
        // Over the cap: not tracked, so no stateful verdict (never a false flag).
        let r = run(&s, "u3", "192.0.2.3", &[click(1, 1, T0, (1, 1))]);
        assert!(r[0].is_empty(), "{r:?}");
        assert_eq!(s.tracked(), (2, 2));
        // Page views beyond the per-user cap push the oldest out.
        run(
            &s,
            "u1",
            "192.0.2.1",
            &[
                impression(1, 1, T0, 1000),
                page_view(2, T0),
                page_view(3, T0),
            ],
        );
        let r = run(&s, "u1", "192.0.2.1", &[click(1, 1, T0 + 9_000, (1, 1))]);
        assert_eq!(r[0], vec![IvtReason::ClickWithoutImpression]);
        s.forget_idle(T0 + 9_000 + 30 * 60_000);
        assert_eq!(s.tracked(), (0, 0));
    }
}
