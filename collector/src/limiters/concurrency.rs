//! "At most N at once per client address": open connections per IP and batch requests
//! in progress per IP. A slot is a guard; dropping it gives the slot back.
//!
//! Addresses are grouped by [`address_key`]: an IPv4 address as is, an IPv6 address by
//! its /64 (one host, one home or one phone usually owns a whole /64, so counting single
//! IPv6 addresses would let one client take as many slots as it likes).

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::{Arc, Mutex, MutexGuard},
};

use crate::http::client_ip::canonical;

/// The key an address is counted under: IPv4 (also IPv4-mapped IPv6) whole, IPv6 by /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(segments))
        }
        v4 => v4,
    }
}

/// Counts per address key, each at most `max`. Entries exist only while a slot is held,
/// so memory is bounded by the slots held (themselves bounded by connections).
pub struct PerAddressSlots {
    max: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One held slot (or nothing, when the limit is disabled); released on drop.
#[derive(Debug)]
pub struct Slot {
    _held: Option<Held>,
}

#[derive(Debug)]
struct Held {
    key: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Slot {
    /// A slot that holds nothing: for what is exempt from the limit.
    pub fn exempt() -> Self {
        Self { _held: None }
    }
}

impl PerAddressSlots {
    /// `max` slots per address key; 0 disables the limit (every acquire succeeds, and
    /// nothing is counted).
    pub fn new(max: usize) -> Self {
        Self {
            max,
            held: Arc::default(),
        }
    }

    /// A slot for `ip`, or `None` when its address already holds `max`.
    pub fn try_acquire(&self, ip: IpAddr) -> Option<Slot> {
        if self.max == 0 {
            return Some(Slot::exempt());
        }
        let key = address_key(ip);
        let mut held = lock(&self.held);
        let count = held.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            _held: Some(Held {
                key,
                held: self.held.clone(),
            }),
        })
    }

    /// Slots currently held by `ip`'s address key.
    pub fn held_by(&self, ip: IpAddr) -> usize {
        lock(&self.held).get(&address_key(ip)).copied().unwrap_or(0)
    }

    /// Address keys holding at least one slot.
    pub fn addresses(&self) -> usize {
        lock(&self.held).len()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = lock(&self.held);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// The map stays consistent even if a holder panicked: every update is one statement.
fn lock(held: &Mutex<HashMap<IpAddr, usize>>) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
    held.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn at_most_max_per_address_and_released_on_drop() {
        let slots = PerAddressSlots::new(2);
        let a1 = slots.try_acquire(ip("192.0.2.1")).unwrap();
        let a2 = slots.try_acquire(ip("192.0.2.1")).unwrap();
        assert!(slots.try_acquire(ip("192.0.2.1")).is_none());
        // Another address (even in the same /24) has its own slots.
        let b = slots.try_acquire(ip("192.0.2.2")).unwrap();
        assert_eq!(slots.held_by(ip("192.0.2.1")), 2);
        assert_eq!(slots.addresses(), 2);
        drop(a1);
        assert!(slots.try_acquire(ip("192.0.2.1")).is_some());
        drop((a2, b));
        assert_eq!(slots.addresses(), 0, "no entry outlives its slots");
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_ipv4_as_ipv4() {
        let slots = PerAddressSlots::new(1);
        let _first = slots.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        assert!(slots.try_acquire(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(slots.try_acquire(ip("2001:db8:1:3::1")).is_some());
        let _v4 = slots.try_acquire(ip("198.51.100.7")).unwrap();
        assert!(slots.try_acquire(ip("::ffff:198.51.100.7")).is_none());
    }

    #[test]
    fn zero_disables() {
        let slots = PerAddressSlots::new(0);
        let held: Vec<Slot> = (0..10)
            .filter_map(|_| slots.try_acquire(ip("192.0.2.1")))
            .collect();
        assert_eq!(held.len(), 10);
        assert_eq!(slots.addresses(), 0);
    }
}
