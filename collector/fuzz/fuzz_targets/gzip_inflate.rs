//! Untrusted gzip bodies: inflation never panics and never returns more than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_collector::payload::decompress::inflate_gzip;

const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = inflate_gzip(data, LIMIT) {
        assert!(out.len() <= LIMIT);
    }
});
