//! Splitting at an ASCII separator byte. `str::split(char)`/`split_once(char)` pull in core's
//! UTF-8 char searcher (~0.7 KB of wasm); an ASCII byte never occurs inside a multi-byte
//! UTF-8 sequence, so its position is always a char boundary and a byte scan is enough.

use alloc::string::String;

/// Appends an ASCII byte. `String::push(char)` of a char the compiler cannot prove to be
/// ASCII (a digit read from a table or an array) inlines the multi-byte UTF-8 branch at the
/// call site; masked to 7 bits it is a plain byte push (callers pass ASCII only).
#[inline(always)]
pub fn push_ascii(out: &mut String, byte: u8) {
    out.push(char::from(byte & 0x7f));
}

/// `s.split_once(sep)` for an ASCII `sep`.
pub fn cut(s: &str, sep: u8) -> Option<(&str, &str)> {
    let index = s.bytes().position(|byte| byte == sep)?;
    let (head, tail) = s.split_at_checked(index)?;
    Some((head, tail.get(1..)?))
}

/// `s.split(sep)` for an ASCII `sep`: yields at least one (possibly empty) part.
pub fn parts(s: &str, sep: u8) -> Parts<'_> {
    Parts { rest: Some(s), sep }
}

pub struct Parts<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match cut(rest, self.sep) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn parts_match_str_split() {
        for text in ["", ",", "a", "a,b", ",a,,b,", "é,ü,€", "\u{1}x\u{1}"] {
            for sep in [b',', 1u8] {
                let ours: Vec<&str> = parts(text, sep).collect();
                let std: Vec<&str> = text.split(sep as char).collect();
                assert_eq!(ours, std, "{text:?} split at {sep}");
                assert_eq!(cut(text, sep), text.split_once(sep as char), "{text:?}");
            }
        }
    }
}
