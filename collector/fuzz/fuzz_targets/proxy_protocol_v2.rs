//! PROXY protocol v2 headers from the network: parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_collector::http::proxy_protocol::{FIXED_LEN, parse_addresses, parse_fixed};

fuzz_target!(|data: &[u8]| {
    let Some(fixed) = data.get(..FIXED_LEN) else {
        return;
    };
    let mut head = [0u8; FIXED_LEN];
    head.copy_from_slice(fixed);
    if let Ok((command, family, len)) = parse_fixed(&head) {
        let rest = &data[FIXED_LEN..];
        let block = &rest[..len.min(rest.len())];
        let _ = parse_addresses(command, family, block);
    }
    // The address parser alone, on arbitrary blocks and families.
    if let [command, family, block @ ..] = data {
        let _ = parse_addresses(*command & 1, *family, block);
    }
});
