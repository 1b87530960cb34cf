//! Batches waiting for another delivery attempt. Bounded in bytes (oldest evicted first,
//! counted) and serializable to a string, so the browser layer can mirror it into
//! localStorage and deliver it on the next page load. The durable IndexedDB store of
//! issue 8 replaces only that mirror; this queue's rules stay.

use alloc::{string::String, vec::Vec};

use super::hex;

#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Request body without `sent_at_ms` (see `batch::stamp`).
    pub body: Vec<u8>,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Not to be retried before this time (ms, same clock as the caller's `now`).
    pub due_ms: f64,
}

#[derive(Debug)]
pub struct RetryQueue {
    /// Oldest first (a plain Vec: the queue is short and VecDeque costs ~1 KB of wasm).
    items: Vec<Pending>,
    bytes: usize,
    max_bytes: usize,
    /// Batches evicted to stay under `max_bytes`.
    pub evicted: u32,
}

impl RetryQueue {
    pub fn new(max_bytes: usize) -> RetryQueue {
        RetryQueue {
            items: Vec::new(),
            bytes: 0,
            max_bytes,
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Queues a batch, evicting the oldest ones while over the byte cap. A batch larger
    /// than the whole cap is itself evicted.
    pub fn push(&mut self, pending: Pending) {
        self.bytes += pending.body.len();
        self.items.push(pending);
        while self.bytes > self.max_bytes && !self.items.is_empty() {
            let old = self.items.remove(0);
            self.bytes -= old.body.len();
            self.evicted = self.evicted.saturating_add(1);
        }
    }

    /// Removes and returns the batches due at `now_ms`, oldest first.
    pub fn take_due(&mut self, now_ms: f64) -> Vec<Pending> {
        let mut due = Vec::new();
        self.bytes = 0;
        for pending in core::mem::take(&mut self.items) {
            if pending.due_ms <= now_ms {
                due.push(pending);
            } else {
                self.bytes += pending.body.len();
                self.items.push(pending);
            }
        }
        due
    }

    /// Earliest due time of the waiting batches.
    pub fn next_due(&self) -> Option<f64> {
        self.items.iter().map(|p| p.due_ms).reduce(f64::min)
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }

    /// Bodies as comma-separated hex (attempt counts restart on the next page load).
    pub fn serialize(&self) -> String {
        let mut out = String::new();
        for (index, pending) in self.items.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(&hex::encode(&pending.body));
        }
        out
    }

    /// Bodies read back from [`RetryQueue::serialize`]; malformed entries are skipped.
    pub fn parse(stored: &str) -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        for part in super::text::parts(stored, b',') {
            if let Some(body) = hex::decode(part).filter(|body| !body.is_empty()) {
                bodies.push(body);
            }
        }
        bodies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(len: usize, due_ms: f64) -> Pending {
        Pending {
            body: alloc::vec![len as u8; len],
            attempts: 1,
            due_ms,
        }
    }

    #[test]
    fn evicts_oldest_over_the_byte_cap() {
        let mut queue = RetryQueue::new(10);
        queue.push(pending(4, 0.0));
        queue.push(pending(5, 0.0));
        assert_eq!((queue.len(), queue.evicted), (2, 0));
        queue.push(pending(3, 0.0));
        assert_eq!((queue.len(), queue.evicted), (2, 1));
        queue.push(pending(11, 0.0));
        assert_eq!((queue.len(), queue.evicted), (0, 4));
    }

    #[test]
    fn hands_out_only_due_batches() {
        let mut queue = RetryQueue::new(100);
        queue.push(pending(1, 10.0));
        queue.push(pending(2, 30.0));
        queue.push(pending(3, 20.0));
        assert_eq!(queue.next_due(), Some(10.0));
        let due = queue.take_due(20.0);
        assert_eq!(due.iter().map(|p| p.body.len()).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.next_due(), Some(30.0));
    }

    #[test]
    fn survives_a_round_trip_through_storage() {
        let mut queue = RetryQueue::new(100);
        queue.push(pending(2, 0.0));
        queue.push(Pending {
            body: alloc::vec![0xab, 0x01],
            attempts: 3,
            due_ms: 5.0,
        });
        let stored = queue.serialize();
        assert_eq!(stored, "0202,ab01");
        assert_eq!(
            RetryQueue::parse(&stored),
            [alloc::vec![2, 2], alloc::vec![0xab, 1]]
        );
        assert_eq!(RetryQueue::parse("zz,,0a"), [alloc::vec![10]]);
    }
}
