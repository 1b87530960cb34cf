//! ISO 8601 / RFC 3339 timestamps as the libraries write them (`2026-12-03T10:00:00.123Z`,
//! Python's `…T10:00:00.123456+00:00`), to ms since the Unix epoch. A missing offset
//! means UTC; a date alone means its midnight. No dependency: the grammar is small.

/// Milliseconds since the Unix epoch, or `None` when `text` is not such a timestamp.
pub fn parse_ms(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0i64, |n, d| {
            n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return None;
    }
    if !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day).checked_mul(86_400_000)?;
    if b.len() == 10 {
        return Some(ms);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut at = 16;
    let mut second = 0;
    if b.get(at) == Some(&b':') {
        second = num(17..19)?;
        at = 19;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    ms += ((hour * 60 + minute) * 60 + second) * 1000;
    if matches!(b.get(at), Some(b'.' | b',')) {
        let start = at + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start {
            return None;
        }
        // Milliseconds: the first three digits, padded.
        let mut frac = 0;
        for i in 0..3 {
            frac = frac * 10
                + b.get(start + i)
                    .filter(|_| start + i < end)
                    .map_or(0, |d| i64::from(d - b'0'));
        }
        ms += frac;
        at = end;
    }
    let offset_min = match b.get(at) {
        None => 0,
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = num(at + 1..at + 3)?;
            let minutes = match (b.get(at + 3), b.len() - at) {
                (None, 3) => 0,
                (Some(b':'), 6) => num(at + 4..at + 6)?,
                (Some(_), 5) => num(at + 3..at + 5)?,
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    ms.checked_sub(offset_min * 60_000)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libraries_formats() {
        // 2026-12-03T10:00:00Z = 1 796 292 000 000 ms.
        let t = 1_796_292_000_000;
        assert_eq!(parse_ms("2026-12-03T10:00:00Z"), Some(t));
        assert_eq!(parse_ms("2026-12-03T10:00:00.123Z"), Some(t + 123));
        assert_eq!(parse_ms("2026-12-03T10:00:00.123456+00:00"), Some(t + 123));
        assert_eq!(parse_ms("2026-12-03T15:30:00.5+05:30"), Some(t + 500));
        assert_eq!(parse_ms("2026-12-03T05:00:00-0500"), Some(t));
        assert_eq!(parse_ms("2026-12-03T10:00:00"), Some(t));
        assert_eq!(parse_ms("2026-12-03 10:00"), Some(t));
        assert_eq!(parse_ms("2026-12-03"), Some(t - 10 * 3_600_000));
        assert_eq!(parse_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
    }

    #[test]
    fn garbage_is_none_never_a_panic() {
        for bad in [
            "",
            "x",
            "2026",
            "2026-13-01",
            "2026-02-30",
            "2026-12-03T25:00:00Z",
            "2026-12-03T10:00:00Zx",
            "2026-12-03T10:00:00.Z",
            "2026-12-03T10:00:00+5",
            "2026-12-03T10",
            "９９９９-01-01",
            "2026-12-03T10:00:00+99:00",
            "99999999999999999999",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }
}
