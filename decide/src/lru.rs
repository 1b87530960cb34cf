//! A bounded map that evicts the least recently used entry: a hash map for lookups and
//! an ordered index of use ticks for finding the oldest in O(log n).

use std::collections::{BTreeMap, HashMap};

pub struct Lru<V> {
    entries: HashMap<String, (u64, V)>,
    by_use: BTreeMap<u64, String>,
    tick: u64,
    capacity: usize,
}

impl<V> Lru<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Removes `key`'s entry; whether there was one.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.entries.remove(key) {
            Some((used, _)) => {
                self.by_use.remove(&used);
                true
            }
            None => false,
        }
    }

    /// Reads without counting as a use (a lookup for a decision does not keep a profile
    /// alive: only its events do).
    pub fn peek(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|(_, v)| v)
    }

    /// The entry of `key`, created with `make` when absent, marked as most recently used.
    /// Returns it and whether an older entry was evicted to make room.
    pub fn touch(&mut self, key: &str, make: impl FnOnce() -> V) -> (&mut V, bool) {
        self.tick += 1;
        let tick = self.tick;
        let mut evicted = false;
        if let Some((used, _)) = self.entries.get(key) {
            let old = *used;
            self.by_use.remove(&old);
        } else if self.entries.len() >= self.capacity {
            if let Some((_, oldest)) = self.by_use.pop_first() {
                self.entries.remove(&oldest);
                evicted = true;
            }
        }
        self.by_use.insert(tick, key.to_owned());
        let entry = self
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| (tick, make()));
        entry.0 = tick;
        (&mut entry.1, evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_is_evicted() {
        let mut lru = Lru::new(2);
        lru.touch("a", || 1);
        lru.touch("b", || 2);
        lru.touch("a", || 0);
        let (_, evicted) = lru.touch("c", || 3);
        assert!(evicted);
        assert_eq!(lru.peek("a"), Some(&1));
        assert_eq!(lru.peek("b"), None);
        assert_eq!(lru.len(), 2);
        assert!(lru.remove("a"));
        assert!(!lru.remove("a"));
        assert_eq!(lru.len(), 1);
        lru.touch("d", || 4);
        lru.touch("e", || 5);
        assert_eq!(lru.len(), 2);
    }
}
