//! Rounding without `std` (f64::round lives in std; the wasm build is no_std).

/// Nearest integer, halves away from zero, saturating at the i32 range.
pub fn round_i32(value: f64) -> i32 {
    if !value.is_finite() {
        return 0;
    }
    if value >= 0.0 {
        (value + 0.5) as i32
    } else {
        (value - 0.5) as i32
    }
}

/// Nearest non-negative integer (negative and non-finite values give 0).
pub fn round_u32(value: f64) -> u32 {
    if value.is_finite() && value > 0.0 {
        (value + 0.5) as u32
    } else {
        0
    }
}

/// Decimal `u64` as `str::parse` reads it (optional `+`, digits only, no overflow), without
/// pulling the generic integer parser into the wasm.
pub fn parse_u64(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u64, |value, byte| {
        let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Whether `value` is an integer a JS number represents exactly.
pub fn is_safe_integer(value: f64) -> bool {
    value.is_finite()
        && value == (value as i64) as f64
        && (-9_007_199_254_740_991.0..=9_007_199_254_740_991.0).contains(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_u64_matches_str_parse() {
        for text in [
            "0",
            "42",
            "+7",
            "",
            "+",
            "-1",
            "1.5",
            " 1",
            "18446744073709551615",
            "18446744073709551616",
            "9a",
        ] {
            assert_eq!(parse_u64(text), text.parse::<u64>().ok(), "{text:?}");
        }
    }

    #[test]
    fn rounds_like_math_round_for_positions() {
        assert_eq!(round_i32(2.5), 3);
        assert_eq!(round_i32(-2.5), -3);
        assert_eq!(round_i32(-0.4), 0);
        assert_eq!(round_i32(f64::NAN), 0);
        assert_eq!(round_i32(1e12), i32::MAX);
        assert_eq!(round_u32(-3.0), 0);
        assert_eq!(round_u32(299.6), 300);
        assert!(is_safe_integer(42.0));
        assert!(!is_safe_integer(0.5));
        assert!(!is_safe_integer(1e300));
    }
}
