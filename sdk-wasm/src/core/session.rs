//! Sessions: an id that lives across page loads and rotates after a stretch of inactivity.

use alloc::string::String;

/// Inactivity after which the next event starts a new session (the common analytics default).
pub const SESSION_IDLE_MS: f64 = 30.0 * 60.0 * 1000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub last_activity_ms: f64,
}

impl Session {
    /// Restores a session persisted as `"<id>.<last activity ms>"`; `None` for anything else.
    pub fn parse(stored: &str) -> Option<Session> {
        let (id, last) = super::text::cut(stored, b'.')?;
        let last_activity_ms = super::num::parse_u64(last)? as f64;
        if id.is_empty() || id.len() > 64 {
            return None;
        }
        Some(Session {
            id: id.into(),
            last_activity_ms,
        })
    }

    /// The persisted form read back by [`Session::parse`].
    pub fn serialize(&self) -> String {
        let mut out = self.id.clone();
        out.push('.');
        push_u64(&mut out, self.last_activity_ms.max(0.0) as u64);
        out
    }

    /// Records activity at `now_ms`. Returns `true` when the session had expired and was
    /// replaced by one with `fresh_id` (so the caller knows the identity changed).
    pub fn touch(&mut self, now_ms: f64, fresh_id: impl FnOnce() -> String) -> bool {
        let expired = now_ms - self.last_activity_ms >= SESSION_IDLE_MS;
        if expired {
            self.id = fresh_id();
        }
        // A clock that went backwards must not extend the session into the future.
        self.last_activity_ms = now_ms.max(0.0);
        expired
    }
}

/// Decimal digits of `value` without `core::fmt` (which costs kilobytes in the wasm build).
pub fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        if let Some(slot) = digits.get_mut(len) {
            *slot = b'0' + (value % 10) as u8;
        }
        len += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for digit in digits.iter().take(len).rev() {
        super::text::push_ascii(out, *digit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_only_after_thirty_idle_minutes() {
        let mut session = Session {
            id: "a".into(),
            last_activity_ms: 1_000.0,
        };
        assert!(!session.touch(1_000.0 + SESSION_IDLE_MS - 1.0, || "b".into()));
        assert_eq!(session.id, "a");
        // Activity keeps it alive: measured from the last activity, not the start.
        assert!(!session.touch(1_000.0 + 2.0 * SESSION_IDLE_MS - 2.0, || "b".into()));
        assert!(session.touch(1_000.0 + 3.0 * SESSION_IDLE_MS, || "b".into()));
        assert_eq!(session.id, "b");
    }

    #[test]
    fn persists_and_rejects_garbage() {
        let session = Session {
            id: "abc".into(),
            last_activity_ms: 1_700_000_000_123.0,
        };
        assert_eq!(session.serialize(), "abc.1700000000123");
        assert_eq!(Session::parse(&session.serialize()), Some(session));
        assert_eq!(Session::parse("abc"), None);
        assert_eq!(Session::parse(".12"), None);
        assert_eq!(Session::parse("abc.x"), None);
    }

    #[test]
    fn prints_decimal() {
        for value in [0u64, 7, 10, 1234567890, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out.parse::<u64>().ok(), Some(value));
        }
    }
}
