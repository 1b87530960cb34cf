//! Experiment `ad_policy`: which variant a profiled-eligible visitor is in.
//!
//! Deterministic, stateless and reproducible outside the service (the simulation and
//! ClickHouse can recompute it): SHA-256 of `salt NUL site NUL visitor_key`, the first 8
//! bytes as a big-endian integer divided by 2^64; below `personalized_share` is
//! `personalized`, the rest `control`.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Control,
    Personalized,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Control => "control",
            Variant::Personalized => "personalized",
        }
    }
}

/// The visitor's position in [0, 1).
pub fn bucket(salt: &str, site: &str, visitor: &str) -> f64 {
    let mut hash = Sha256::new();
    hash.update(salt.as_bytes());
    hash.update([0]);
    hash.update(site.as_bytes());
    hash.update([0]);
    hash.update(visitor.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0
}

pub fn assign(salt: &str, personalized_share: f64, site: &str, visitor: &str) -> Variant {
    if bucket(salt, site, visitor) < personalized_share {
        Variant::Personalized
    } else {
        Variant::Control
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_deterministic_and_follows_the_split() {
        assert_eq!(
            assign("s", 0.5, "demo", "u1"),
            assign("s", 0.5, "demo", "u1")
        );
        assert_eq!(assign("s", 0.0, "demo", "u1"), Variant::Control);
        assert_eq!(assign("s", 1.0, "demo", "u1"), Variant::Personalized);
        let personalized = (0..10_000)
            .filter(|n| assign("s", 0.3, "demo", &format!("v{n}")) == Variant::Personalized)
            .count();
        // 3000 expected; ±5 standard deviations (√(10000·0.3·0.7) ≈ 46).
        assert!((2770..=3230).contains(&personalized), "{personalized}");
    }
}
