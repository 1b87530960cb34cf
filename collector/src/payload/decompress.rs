//! `Content-Encoding` handling: gzip is inflated with a hard output limit that is
//! enforced while inflating, so a gzip bomb never expands in memory.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use crate::error::ApiError;

/// Supported request encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

/// Parses a `Content-Encoding` value (absent means identity).
pub fn parse_encoding(header: Option<&str>) -> Result<Encoding, ApiError> {
    match header.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => Ok(Encoding::Identity),
        Some("gzip") | Some("x-gzip") => Ok(Encoding::Gzip),
        Some(other) => Err(ApiError::UnsupportedEncoding(
            other.chars().take(64).collect(),
        )),
    }
}

/// Inflates `input`, failing with 413 as soon as the output would exceed `limit` bytes.
pub fn inflate_gzip(input: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let decoder = MultiGzDecoder::new(input);
    // Reading at most limit + 1 bytes tells "exactly at the limit" from "over it"
    // without ever holding more than that.
    let mut limited = decoder.take(limit as u64 + 1);
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(limit + 1));
    limited
        .read_to_end(&mut out)
        .map_err(|e| ApiError::InvalidGzip(e.to_string()))?;
    if out.len() > limit {
        return Err(ApiError::DecompressedTooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn round_trip_within_limit_and_exactly_at_it() {
        let data = vec![7u8; 1000];
        assert_eq!(inflate_gzip(&gzip(&data), 1000).unwrap(), data);
    }

    #[test]
    fn bomb_is_stopped_at_the_limit() {
        // 64 MiB of zeros compress to ~64 KiB; the limit stops inflation at 1 MiB + 1.
        let bomb = gzip(&vec![0u8; 64 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        let err = inflate_gzip(&bomb, 1024 * 1024).unwrap_err();
        assert_eq!(err, ApiError::DecompressedTooLarge { limit: 1024 * 1024 });
    }

    #[test]
    fn corrupt_gzip_is_400() {
        let err = inflate_gzip(b"definitely not gzip", 1000).unwrap_err();
        assert_eq!(err.code(), "invalid_gzip");
        let mut truncated = gzip(&[1u8; 5000]);
        truncated.truncate(truncated.len() / 2);
        assert_eq!(
            inflate_gzip(&truncated, 10_000).unwrap_err().code(),
            "invalid_gzip"
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(parse_encoding(None).unwrap(), Encoding::Identity);
        assert_eq!(parse_encoding(Some("GZIP")).unwrap(), Encoding::Gzip);
        assert_eq!(
            parse_encoding(Some("br")).unwrap_err().code(),
            "unsupported_encoding"
        );
    }
}
