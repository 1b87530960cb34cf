//! Write keys. The libraries send theirs as the user name of HTTP Basic authentication
//! (`Authorization: Basic base64(key ":")`); it selects the `[[sources]]` entry. Keys are
//! server secrets: compared in constant time (digests, so not even the length leaks),
//! every configured key is compared (no early exit), and a key is never logged.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD},
};
use http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::config::SourceConfig;

/// Longest `Authorization` value looked at (a key is far shorter).
const MAX_HEADER_LEN: usize = 1024;

/// The write key of an `Authorization: Basic …` header: the user name, or the password
/// when the user name is empty (some clients put the key there).
pub fn write_key(header: Option<&HeaderValue>) -> Option<String> {
    let value = header?.to_str().ok()?;
    if value.len() > MAX_HEADER_LEN {
        return None;
    }
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let encoded = encoded.trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':').unwrap_or((text.as_str(), ""));
    let key = if user.is_empty() { password } else { user };
    (!key.is_empty()).then(|| key.to_owned())
}

/// The source whose key is `key`, comparing against every configured key.
pub fn find<'a>(sources: &'a [SourceConfig], key: &str) -> Option<&'a SourceConfig> {
    let given = Sha256::digest(key.as_bytes());
    let mut found = None;
    for source in sources {
        let expected = Sha256::digest(source.write_key.as_bytes());
        if constant_time_eq(&given, &expected) {
            found = Some(source);
        }
    }
    found
}

/// Equality of two digests in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;

    fn basic(text: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(text))).unwrap()
    }

    fn source(name: &str, key: &str) -> SourceConfig {
        SourceConfig {
            name: name.into(),
            site: "demo".into(),
            write_key: key.into(),
            kind: SourceKind::Server,
            trust_client_ip: false,
        }
    }

    #[test]
    fn the_key_is_the_basic_user_name_or_else_the_password() {
        assert_eq!(write_key(Some(&basic("k1:"))).as_deref(), Some("k1"));
        assert_eq!(write_key(Some(&basic(":k2"))).as_deref(), Some("k2"));
        assert_eq!(write_key(Some(&basic("k3"))).as_deref(), Some("k3"));
        let unpadded = HeaderValue::from_static("basic azQ6");
        assert_eq!(write_key(Some(&unpadded)).as_deref(), Some("k4"));
        for bad in ["Bearer abc", "Basic !!!", "Basic", "Basic Og=="] {
            assert_eq!(
                write_key(Some(&HeaderValue::from_static(bad))),
                None,
                "{bad}"
            );
        }
        assert_eq!(write_key(None), None);
    }

    #[test]
    fn only_an_exact_key_finds_its_source() {
        let sources = [
            source("a", "aaaaaaaaaaaaaaaa"),
            source("b", "bbbbbbbbbbbbbbbb"),
        ];
        assert_eq!(
            find(&sources, "bbbbbbbbbbbbbbbb").map(|s| s.name.as_str()),
            Some("b")
        );
        assert!(find(&sources, "bbbbbbbbbbbbbbb").is_none());
        assert!(find(&sources, "bbbbbbbbbbbbbbbbb").is_none());
        assert!(find(&sources, "").is_none());
        assert!(format!("{:?}", sources[0]).contains("<redacted>"));
        assert!(!format!("{:?}", sources[0]).contains("aaaa"));
    }
}
