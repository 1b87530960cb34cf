//! URL reduction: what leaves the page is scheme, host and path, plus only the query
//! parameters the site allowed (campaign tags). Fragments, credentials and other
//! parameters (which often carry emails, tokens, search text) never leave.

use alloc::string::String;

/// Query parameters kept by default: exact names, or prefixes when they end in `*`.
pub const DEFAULT_QUERY_ALLOWLIST: &[&str] = &["utm_*"];

/// Longest URL sent; longer ones are cut (at a char boundary) so one page cannot bloat every batch.
pub const MAX_URL_BYTES: usize = 1024;

/// `url` without fragment and credentials, keeping only allowlisted query parameters
/// (in their original order).
pub fn sanitize<S: AsRef<str>>(url: &str, allowlist: &[S]) -> String {
    let (base, query) = split(url);
    let mut out = strip_credentials(base);
    let mut first = true;
    if let Some(query) = query {
        for pair in super::text::parts(query, b'&') {
            let name = super::text::cut(pair, b'=').map_or(pair, |(name, _)| name);
            if name.is_empty() || !allowed(name, allowlist) {
                continue;
            }
            out.push(if first { '?' } else { '&' });
            out.push_str(pair);
            first = false;
        }
    }
    truncate(out)
}

/// Scheme, host and path only: for referrers and link targets.
pub fn origin_and_path(url: &str) -> String {
    truncate(strip_credentials(split(url).0))
}

/// What identifies a page view: the full URL without its fragment. Compared before
/// sanitizing, so `/search?q=a` → `/search?q=b` is a new page view although both are
/// reported as `/search`; a fragment-only change (an in-page anchor) is not.
pub fn page_key(url: &str) -> &str {
    super::text::cut(url, b'#').map_or(url, |(before, _)| before)
}

/// Whether the location moving from `previous` to `current` (raw hrefs, or a stored
/// [`page_key`]) starts a new page view.
pub fn is_new_page(previous: &str, current: &str) -> bool {
    page_key(previous) != page_key(current)
}

fn split(url: &str) -> (&str, Option<&str>) {
    let url = super::text::cut(url, b'#').map_or(url, |(before, _)| before);
    match super::text::cut(url, b'?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    }
}

fn strip_credentials(base: &str) -> String {
    // Byte search (not `str::find` with a string pattern): keeps the two-way searcher and
    // str-slicing panics, with their formatting code, out of the wasm.
    let bytes = base.as_bytes();
    if let Some(scheme_end) = bytes.windows(3).position(|w| w == b"://") {
        let authority_start = scheme_end + 3;
        let rest = bytes.get(authority_start..).unwrap_or_default();
        let authority_end = rest.iter().position(|b| *b == b'/').unwrap_or(rest.len());
        let authority = rest.get(..authority_end).unwrap_or_default();
        if let Some(at) = authority.iter().rposition(|b| *b == b'@') {
            let mut out = String::with_capacity(base.len());
            out.push_str(base.get(..authority_start).unwrap_or_default());
            out.push_str(base.get(authority_start + at + 1..).unwrap_or_default());
            return out;
        }
    }
    base.into()
}

fn allowed<S: AsRef<str>>(name: &str, allowlist: &[S]) -> bool {
    allowlist.iter().any(|rule| {
        let rule = rule.as_ref();
        match rule.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == rule,
        }
    })
}

fn truncate(text: String) -> String {
    if text.len() <= MAX_URL_BYTES {
        return text;
    }
    crate::core::config::truncate(&text, MAX_URL_BYTES).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_allowlisted_parameters_and_drops_fragment() {
        let url = "https://ex.com/a/b?email=x%40y.z&utm_source=news&q=secret&utm_medium=mail#top";
        assert_eq!(
            sanitize(url, DEFAULT_QUERY_ALLOWLIST),
            "https://ex.com/a/b?utm_source=news&utm_medium=mail"
        );
        assert_eq!(
            sanitize("https://ex.com/?q=1", DEFAULT_QUERY_ALLOWLIST),
            "https://ex.com/"
        );
        assert_eq!(
            sanitize("https://ex.com/?ref=a&q=1", &["ref"]),
            "https://ex.com/?ref=a"
        );
        assert_eq!(
            sanitize("https://ex.com/p#x?utm_a=1", DEFAULT_QUERY_ALLOWLIST),
            "https://ex.com/p"
        );
    }

    #[test]
    fn page_views_compare_the_full_url_before_sanitizing() {
        // Query-only change: both sanitize to ".../search", yet it is a new page view.
        let a = "https://ex.com/search?q=a";
        let b = "https://ex.com/search?q=b";
        assert_eq!(
            sanitize(a, DEFAULT_QUERY_ALLOWLIST),
            sanitize(b, DEFAULT_QUERY_ALLOWLIST)
        );
        assert!(is_new_page(a, b));
        // replaceState to the same URL, or only a new fragment: not a page view.
        assert!(!is_new_page(a, a));
        assert!(!is_new_page(a, "https://ex.com/search?q=a#results"));
        assert!(!is_new_page(
            page_key("https://ex.com/p#x"),
            "https://ex.com/p"
        ));
        assert!(is_new_page(a, "https://ex.com/courses/1"));
    }

    #[test]
    fn strips_credentials_and_query_from_links() {
        assert_eq!(
            origin_and_path("https://u:p@ex.com/x?y=1#z"),
            "https://ex.com/x"
        );
        assert_eq!(origin_and_path("mailto:a@b.c"), "mailto:a@b.c");
        assert_eq!(origin_and_path("https://ex.com/a@b"), "https://ex.com/a@b");
    }

    #[test]
    fn bounds_length_on_char_boundary() {
        let mut long = String::from("https://ex.com/");
        for _ in 0..600 {
            long.push('é');
        }
        let out = origin_and_path(&long);
        assert!(out.len() <= MAX_URL_BYTES && out.len() > MAX_URL_BYTES - 4);
    }
}
