//! The detectors: examples, then property tests for true positives (valid numbers
//! generated in the formats people type) and false positives (course codes, prices,
//! dates, ISBN-13s, order numbers failing Verhoeff, ids failing Luhn).

use proptest::prelude::*;

use super::*;

fn all() -> Detectors {
    Detectors::default()
}

fn clean(text: &str) -> (String, Redactions) {
    let mut found = Redactions::default();
    let out = scrub(text, &all(), &mut found).unwrap_or_else(|| text.to_owned());
    (out, found)
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b - b'0').collect()
}

#[test]
fn checksums_match_known_values() {
    // Verhoeff's reference example 236 → check digit 3; a known-valid Aadhaar test number.
    assert_eq!(verhoeff_digit(&digits("236")), 3);
    assert!(verhoeff(&digits("2363")));
    assert!(!verhoeff(&digits("2364")));
    assert!(verhoeff(&digits("499118665246")));
    assert!(luhn(&digits("4111111111111111")));
    assert!(luhn(&digits("79927398713")));
    assert!(!luhn(&digits("4111111111111112")));
    assert_eq!(luhn_digit(&digits("7992739871")), 3);
}

#[test]
fn examples() {
    for (input, expected) in [
        ("mail asha.k+ads@mail.example.co.in now", "mail [email] now"),
        ("call +91 98765 43210.", "call [phone]."),
        ("call 098765-43210", "call [phone]"),
        ("9876543210", "[phone]"),
        ("91 98765 43210", "[phone]"),
        ("+44 20 7946 0958", "[phone]"),
        ("aadhaar 4991 1866 5246", "aadhaar [aadhaar]"),
        ("pan abcpe1234f ok", "pan [pan] ok"),
        ("/u/ABCPE1234F/x", "/u/[pan]/x"),
        ("card 4111-1111-1111-1111", "card [card]"),
        (
            "/search?q=9876543210&utm_source=x",
            "/search?q=[phone]&utm_source=x",
        ),
        ("a@b.c", "a@b.c"),
        ("user@localhost", "user@localhost"),
        ("₹4,999.00 for CS101", "₹4,999.00 for CS101"),
        (
            "MATH-2024 on 2026-12-03 or 03/12/2026",
            "MATH-2024 on 2026-12-03 or 03/12/2026",
        ),
        ("ISBN 978-0-306-40615-7", "ISBN 978-0-306-40615-7"),
        ("version 9876543210.5", "version 9876543210.5"),
        ("ABCDE1234F", "ABCDE1234F"), // D is not a holder type
    ] {
        assert_eq!(clean(input).0, expected, "{input}");
    }
    let (_, found) = clean("a@b.io 9876543210 ABCPE1234F 4111111111111111 499118665246");
    for kind in PiiKind::ALL {
        assert_eq!(found.get(kind), 1, "{kind:?}");
    }
}

#[test]
fn detectors_switch_off_one_by_one() {
    let text = "a@b.io 9876543210 ABCPE1234F 4111111111111111 499118665246";
    for kind in PiiKind::ALL {
        let mut detectors = all();
        match kind {
            PiiKind::Email => detectors.email = false,
            PiiKind::Phone => detectors.phone = false,
            PiiKind::Aadhaar => detectors.aadhaar = false,
            PiiKind::Pan => detectors.pan = false,
            PiiKind::Card => detectors.card = false,
        }
        let mut found = Redactions::default();
        let out = scrub(text, &detectors, &mut found).unwrap();
        assert_eq!(found.get(kind), 0);
        assert_eq!(found.total(), 4);
        assert!(!out.contains(kind.placeholder()), "{out}");
    }
}

fn with_check(body: Vec<u8>, check: fn(&[u8]) -> u8) -> Vec<u8> {
    let mut all = body;
    let c = check(&all);
    all.push(c);
    all
}

fn text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// `digits` in groups of `size` joined by `sep`.
fn grouped(digits: &str, size: usize, sep: &str) -> String {
    digits
        .as_bytes()
        .chunks(size)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(sep)
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("-")]
}

fn surrounding() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop_oneof![
        Just(("", "")),
        Just(("my number is ", ", thanks")),
        Just(("/profile/", "/edit")),
        Just(("?q=", "&utm_source=mail")),
        Just(("(", ")")),
    ]
}

fn aadhaar() -> impl Strategy<Value = String> {
    (2u8..=9, proptest::collection::vec(0u8..=9, 10)).prop_map(|(first, rest)| {
        let mut body = vec![first];
        body.extend(rest);
        text(&with_check(body, verhoeff_digit))
    })
}

fn card() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(vec![4u8]),
            Just(vec![5, 3]),
            Just(vec![6, 0]),
            Just(vec![3, 7])
        ],
        13usize..=19,
    )
        .prop_flat_map(|(prefix, len)| {
            proptest::collection::vec(0u8..=9, len - 1 - prefix.len()).prop_map(move |rest| {
                let mut body = prefix.clone();
                body.extend(rest);
                text(&with_check(body, luhn_digit))
            })
        })
}

fn mobile() -> impl Strategy<Value = String> {
    (6u8..=9, proptest::collection::vec(0u8..=9, 9)).prop_map(|(first, rest)| {
        let mut all = vec![first];
        all.extend(rest);
        text(&all)
    })
}

proptest! {
    #[test]
    fn aadhaar_numbers_are_found(n in aadhaar(), sep in separator(), (pre, post) in surrounding()) {
        let written = if sep.is_empty() { n.clone() } else { grouped(&n, 4, sep) };
        let (out, found) = clean(&format!("{pre}{written}{post}"));
        prop_assert_eq!(out, format!("{pre}[aadhaar]{post}"));
        prop_assert_eq!(found.get(PiiKind::Aadhaar), 1);
    }

    #[test]
    fn cards_are_found(n in card(), sep in separator(), (pre, post) in surrounding()) {
        let written = if sep.is_empty() || n.len() > 16 { n.clone() } else { grouped(&n, 4, sep) };
        let (out, _) = clean(&format!("{pre}{written}{post}"));
        prop_assert_eq!(out, format!("{pre}[card]{post}"));
    }

    #[test]
    fn mobiles_are_found(
        n in mobile(),
        prefix in prop_oneof![Just(""), Just("+91 "), Just("+91"), Just("0"), Just("91 "), Just("+91-")],
        sep in separator(),
        (pre, post) in surrounding(),
    ) {
        let written = format!("{prefix}{}", if sep.is_empty() { n.clone() } else { format!("{}{sep}{}", &n[..5], &n[5..]) });
        let (out, found) = clean(&format!("{pre}{written}{post}"));
        prop_assert_eq!(out, format!("{pre}[phone]{post}"));
        prop_assert_eq!(found.get(PiiKind::Phone), 1);
    }

    #[test]
    fn emails_are_found(
        local in "[a-z][a-z0-9._+-]{0,15}[a-z0-9]",
        domain in "[a-z][a-z0-9-]{0,10}[a-z0-9]",
        tld in prop_oneof![Just("com"), Just("in"), Just("co.in"), Just("ac.in"), Just("edu")],
        (pre, post) in surrounding(),
    ) {
        let (out, _) = clean(&format!("{pre}{local}@{domain}.{tld}{post}"));
        prop_assert_eq!(out, format!("{pre}[email]{post}"));
    }

    #[test]
    fn pans_are_found(
        first in "[A-Z]{3}",
        holder in prop::sample::select(PAN_HOLDER_TYPES.to_vec()),
        fifth in "[A-Z]",
        number in "[0-9]{4}",
        last in "[A-Z]",
        (pre, post) in surrounding(),
    ) {
        let pan = format!("{first}{}{fifth}{number}{last}", char::from(holder));
        let (out, _) = clean(&format!("{pre}{pan}{post}"));
        prop_assert_eq!(out, format!("{pre}[pan]{post}"));
    }

    #[test]
    fn course_codes_prices_and_dates_survive(
        dept in "[A-Z]{2,4}",
        code in 100u32..9999,
        year in 1990u32..2100,
        month in 1u32..=12,
        day in 1u32..=28,
        rupees in 1u32..999_999,
        paise in 0u32..100,
    ) {
        let text = format!(
            "{dept}{code} {dept}-{year} ₹{},{:03}.{paise:02} {year}-{month:02}-{day:02} {day:02}/{month:02}/{year} Rs.{rupees}",
            rupees / 1000, rupees % 1000
        );
        let (out, found) = clean(&text);
        prop_assert_eq!(found.total(), 0, "{}", out);
    }

    #[test]
    fn isbn_13_survives(body in proptest::collection::vec(0u8..=9, 9), prefix in prop_oneof![Just("978"), Just("979")], sep in separator()) {
        let mut all = digits(prefix);
        all.extend(body);
        let sum: u32 = all.iter().enumerate().map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 1 } else { 3 }).sum();
        all.push(u8::try_from((10 - sum % 10) % 10).unwrap_or(0));
        let s = text(&all);
        let written = format!("{}{sep}{}{sep}{}{sep}{}{sep}{}", &s[..3], &s[3..4], &s[4..7], &s[7..12], &s[12..]);
        let (out, found) = clean(&format!("ISBN {written}"));
        prop_assert_eq!(found.total(), 0, "{}", out);
    }

    #[test]
    fn order_numbers_failing_verhoeff_survive(first in 1u8..=9, rest in proptest::collection::vec(0u8..=9, 11)) {
        let mut all = vec![first];
        all.extend(rest);
        prop_assume!(!verhoeff(&all));
        // An ungrouped 12-digit number starting 91 is not a phone either.
        let (out, found) = clean(&format!("order #{}", text(&all)));
        prop_assert_eq!(found.total(), 0, "{}", out);
    }

    #[test]
    fn ids_failing_luhn_survive(first in 2u8..=6, rest in proptest::collection::vec(0u8..=9, 15)) {
        let mut all = vec![first];
        all.extend(rest);
        prop_assume!(!luhn(&all));
        let (out, found) = clean(&format!("ref {}", text(&all)));
        prop_assert_eq!(found.total(), 0, "{}", out);
    }

    #[test]
    fn arbitrary_text_never_panics_and_placeholders_are_stable(s in "\\PC{0,64}") {
        let (once, _) = clean(&s);
        let (twice, found) = clean(&once);
        prop_assert_eq!(&twice, &once);
        prop_assert_eq!(found.total(), 0);
    }
}
