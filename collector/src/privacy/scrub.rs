//! PII scrubbing, the collector's defence in depth behind the SDK's own (issue 18,
//! docs/privacy.md): e-mail addresses, phone numbers (Indian mobile formats and E.164),
//! Aadhaar numbers (Verhoeff-valid), PAN and payment card numbers (Luhn-valid) in free
//! text are replaced with typed placeholders (`[email]`, `[phone]`, `[aadhaar]`, `[pan]`,
//! `[card]`).
//!
//! Hand-written scanners, not regular expressions: one pass over the bytes, no
//! allocation unless something is found (the common case costs a scan; see
//! `bench/benches/scrub.rs`). Checksums keep ordinary numbers (order ids, ISBNs, prices,
//! dates, course codes) intact: a 12-digit number is an Aadhaar only when its Verhoeff
//! digit is right, a 13–19 digit one a card only when Luhn holds and it starts like a
//! card number.

use crate::config::PrivacyConfig;

/// The kinds of PII found, in the order of the `kind` label of
/// `sightline_collector_pii_redactions_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PiiKind {
    Email,
    Phone,
    Aadhaar,
    Pan,
    Card,
}

impl PiiKind {
    pub const ALL: [PiiKind; 5] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Aadhaar,
        PiiKind::Pan,
        PiiKind::Card,
    ];

    /// The metric label and the placeholder's word.
    pub fn name(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Aadhaar => "aadhaar",
            PiiKind::Pan => "pan",
            PiiKind::Card => "card",
        }
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[email]",
            PiiKind::Phone => "[phone]",
            PiiKind::Aadhaar => "[aadhaar]",
            PiiKind::Pan => "[pan]",
            PiiKind::Card => "[card]",
        }
    }
}

/// Which detectors run (`privacy.scrub_*`; all on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detectors {
    pub email: bool,
    pub phone: bool,
    pub aadhaar: bool,
    pub pan: bool,
    pub card: bool,
}

impl Default for Detectors {
    fn default() -> Self {
        Self {
            email: true,
            phone: true,
            aadhaar: true,
            pan: true,
            card: true,
        }
    }
}

impl Detectors {
    pub fn from_config(config: &PrivacyConfig) -> Self {
        Self {
            email: config.scrub_email,
            phone: config.scrub_phone,
            aadhaar: config.scrub_aadhaar,
            pan: config.scrub_pan,
            card: config.scrub_card,
        }
    }

    fn on(&self, kind: PiiKind) -> bool {
        match kind {
            PiiKind::Email => self.email,
            PiiKind::Phone => self.phone,
            PiiKind::Aadhaar => self.aadhaar,
            PiiKind::Pan => self.pan,
            PiiKind::Card => self.card,
        }
    }

    fn any(&self) -> bool {
        self.email || self.phone || self.aadhaar || self.pan || self.card
    }
}

/// Replacements made, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redactions([u32; 5]);

impl Redactions {
    pub fn add(&mut self, kind: PiiKind) {
        self.0[kind as usize] += 1;
    }

    pub fn get(&self, kind: PiiKind) -> u32 {
        self.0[kind as usize]
    }

    pub fn total(&self) -> u32 {
        self.0.iter().sum()
    }

    pub fn merge(&mut self, other: &Redactions) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// Scrubs `text` in place; returns whether anything was replaced (counted in `found`).
pub fn scrub_in_place(text: &mut String, detectors: &Detectors, found: &mut Redactions) -> bool {
    match scrub(text, detectors, found) {
        Some(clean) => {
            *text = clean;
            true
        }
        None => false,
    }
}

/// `text` with every detected item replaced, or `None` when there was nothing to replace.
pub fn scrub(text: &str, detectors: &Detectors, found: &mut Redactions) -> Option<String> {
    if !detectors.any() {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` already copied to `out` (or skipped as replaced).
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hit = match bytes[i] {
            b'@' if detectors.email => email_at(bytes, i, copied),
            b'0'..=b'9' | b'+' => match number_at(bytes, i, detectors) {
                Ok(hit) => Some(hit),
                Err(end) => {
                    i = end;
                    continue;
                }
            },
            b'A'..=b'Z' | b'a'..=b'z' if detectors.pan => pan_at(bytes, i),
            _ => None,
        };
        match hit {
            Some((start, end, kind)) => {
                let clean = out.get_or_insert_with(|| String::with_capacity(text.len()));
                clean.push_str(&text[copied..start]);
                clean.push_str(kind.placeholder());
                found.add(kind);
                copied = end;
                i = end;
            }
            None => i += skip_token(bytes, i),
        }
    }
    let mut clean = out?;
    clean.push_str(&text[copied..]);
    Some(clean)
}

/// How far to advance when nothing matched at `i`: past the whole alphanumeric word (so
/// a number glued to letters, `CS101`, is never a candidate), else one character.
fn skip_token(bytes: &[u8], i: usize) -> usize {
    if bytes[i].is_ascii_alphanumeric() {
        bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count()
    } else {
        // One UTF-8 character (continuation bytes are 0b10xx_xxxx).
        1 + bytes[i + 1..]
            .iter()
            .take_while(|b| (**b & 0xC0) == 0x80)
            .count()
    }
}

fn is_local_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// An e-mail address around the `@` at `at`: a local part (not reaching back before
/// `floor`, the end of the previous replacement) and a domain with a dot and a
/// letters-only top-level label of two or more.
fn email_at(bytes: &[u8], at: usize, floor: usize) -> Option<(usize, usize, PiiKind)> {
    let mut start = at;
    while start > floor && is_local_part(bytes[start - 1]) {
        start -= 1;
    }
    // A local part does not start with a dot (`see.a@b.com` is fine, `.@` is not).
    while start < at && bytes[start] == b'.' {
        start += 1;
    }
    if start == at {
        return None;
    }
    let mut end = at + 1;
    while end < bytes.len() && is_domain(bytes[end]) {
        end += 1;
    }
    // Trailing dots and dashes are punctuation, not the domain.
    while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = &bytes[at + 1..end];
    let dot = domain.iter().rposition(|b| *b == b'.')?;
    let tld = &domain[dot + 1..];
    if dot == 0 || tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    Some((start, end, PiiKind::Email))
}

/// Digits of a candidate number, at most 19 (the longest card), with the sizes of the
/// groups between separators.
struct Digits {
    digits: [u8; 19],
    len: usize,
    groups: [u8; 8],
    group_count: usize,
}

impl Digits {
    fn as_slice(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    fn first(&self) -> u8 {
        self.digits[0]
    }

    /// The first `groups` groups only.
    fn prefix(&self, groups: usize) -> Digits {
        let len = self.groups[..groups].iter().map(|g| usize::from(*g)).sum();
        Digits {
            digits: self.digits,
            len,
            groups: self.groups,
            group_count: groups,
        }
    }
}

/// A number at `i`: a run of digits, possibly in groups separated by one space or dash,
/// optionally after a `+`. It must stand alone: no letter, digit, `.`, `,` or `_` right
/// before it, and no letter or digit (nor a decimal `.5` / thousands `,999`) right after.
/// Numbers written next to each other (`4111 1111 1111 1111 9876543210`) are one token:
/// the longest run of whole groups that is PII wins. `Err(end)`: nothing here, resume
/// scanning at `end` (after the whole token, so the tail of an ISBN or a date is never
/// read as a number of its own).
fn number_at(
    bytes: &[u8],
    i: usize,
    detectors: &Detectors,
) -> Result<(usize, usize, PiiKind), usize> {
    let next = i + 1;
    if i > 0 {
        let prev = bytes[i - 1];
        if prev.is_ascii_alphanumeric() || matches!(prev, b'.' | b',' | b'_' | b'+') {
            return Err(next);
        }
    }
    let plus = bytes[i] == b'+';
    let mut j = if plus { i + 1 } else { i };
    if !bytes.get(j).is_some_and(u8::is_ascii_digit) {
        return Err(next);
    }
    let mut d = Digits {
        digits: [0; 19],
        len: 0,
        groups: [0; 8],
        group_count: 1,
    };
    // Byte offset after each group.
    let mut ends = [0usize; 8];
    loop {
        match bytes.get(j) {
            Some(b) if b.is_ascii_digit() => {
                if d.len == d.digits.len() {
                    if d.group_count == 1 {
                        // One run longer than any PII: a number of another kind.
                        let rest = bytes[j..].iter().take_while(|b| b.is_ascii_alphanumeric());
                        return Err(j + rest.count());
                    }
                    // Whole groups only: the next number starts with the cut group.
                    d.len -= usize::from(d.groups[d.group_count - 1]);
                    d.groups[d.group_count - 1] = 0;
                    d.group_count -= 1;
                    j = ends[d.group_count - 1];
                    break;
                }
                d.digits[d.len] = b - b'0';
                d.len += 1;
                d.groups[d.group_count - 1] += 1;
                j += 1;
                ends[d.group_count - 1] = j;
            }
            Some(b' ' | b'-')
                if bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
                    && d.group_count < d.groups.len()
                    && d.len < d.digits.len() =>
            {
                d.group_count += 1;
                j += 1;
            }
            _ => break,
        }
    }
    match bytes.get(j) {
        Some(b) if b.is_ascii_alphanumeric() => return Err(j),
        Some(b'.' | b',') if bytes.get(j + 1).is_some_and(u8::is_ascii_digit) => return Err(j),
        _ => {}
    }
    for groups in (1..=d.group_count).rev() {
        if let Some(kind) = classify(&d.prefix(groups), plus)
            && detectors.on(kind)
        {
            return Ok((i, ends[groups - 1], kind));
        }
    }
    Err(j)
}

fn classify(d: &Digits, plus: bool) -> Option<PiiKind> {
    let digits = d.as_slice();
    let groups = &d.groups[..d.group_count];
    if plus {
        // E.164: country code and number, 8 to 15 digits after the `+`.
        return (8..=15).contains(&d.len).then_some(PiiKind::Phone);
    }
    if (13..=19).contains(&d.len) && matches!(d.first(), 2..=6 | 8) && luhn(digits) {
        return Some(PiiKind::Card);
    }
    if d.len == 12 && (groups == [12] || groups == [4, 4, 4]) && d.first() >= 2 && verhoeff(digits)
    {
        return Some(PiiKind::Aadhaar);
    }
    let mobile = |rest: &[u8]| rest.len() == 10 && rest[0] >= 6;
    // 98765 43210, 0 98765 43210 (trunk prefix), 91 98765 43210 (country code written
    // apart: an ungrouped 12-digit 91… is more likely an order number).
    if mobile(digits)
        || (d.first() == 0 && mobile(&digits[1..]))
        || (digits.starts_with(&[9, 1]) && groups.first() == Some(&2) && mobile(&digits[2..]))
    {
        return Some(PiiKind::Phone);
    }
    None
}

/// Holder-type letters of a PAN's fourth character (Income Tax Department): person,
/// company, HUF, firm, association of persons, trust, body of individuals, local
/// authority, artificial juridical person, government.
const PAN_HOLDER_TYPES: &[u8] = b"PCHFATBLJG";

/// A PAN at `i`: five letters, four digits, a letter, as a word of its own.
fn pan_at(bytes: &[u8], i: usize) -> Option<(usize, usize, PiiKind)> {
    if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    let word = bytes.get(i..i + 10)?;
    if bytes.get(i + 10).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let shape = word[..5].iter().all(u8::is_ascii_alphabetic)
        && word[5..9].iter().all(u8::is_ascii_digit)
        && word[9].is_ascii_alphabetic()
        && PAN_HOLDER_TYPES.contains(&word[3].to_ascii_uppercase());
    shape.then_some((i, i + 10, PiiKind::Pan))
}

/// The Luhn (mod 10) check of payment card numbers.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Whether `digits` (check digit last) pass the Verhoeff check (Aadhaar's).
pub fn verhoeff(digits: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        c = VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][d as usize] as usize];
    }
    c == 0
}

/// The Verhoeff check digit for `digits` (for tests and generators).
pub fn verhoeff_digit(digits: &[u8]) -> u8 {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        c = VERHOEFF_D[c as usize][VERHOEFF_P[(i + 1) % 8][d as usize] as usize];
    }
    VERHOEFF_INV[c as usize]
}

/// The Luhn check digit for `digits` (for tests and generators).
pub fn luhn_digit(digits: &[u8]) -> u8 {
    let mut with = digits.to_vec();
    with.push(0);
    (0..10)
        .find(|&d| {
            with[digits.len()] = d;
            luhn(&with)
        })
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "scrub_tests.rs"]
mod tests;
