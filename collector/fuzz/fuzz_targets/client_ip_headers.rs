//! `Forwarded` / `X-Forwarded-For` from untrusted clients behind a trusted proxy: the
//! answer is never a trusted-proxy address made up by the client, and nothing panics.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use http::{HeaderMap, HeaderValue};
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;
use sightline_collector::{
    http::client_ip::{client_ip, parse_node},
    payload::enrich::truncate_ip,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (forwarded, xff) = text.split_once('\n').unwrap_or((&text, ""));
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(forwarded) {
        headers.insert("forwarded", v);
    }
    if let Ok(v) = HeaderValue::from_str(xff) {
        headers.insert("x-forwarded-for", v);
    }
    let trusted: Vec<IpNet> = ["10.0.0.0/8", "fd00::/8"]
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let peer = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let ip = client_ip(peer, &headers, &trusted);
    let _ = truncate_ip(ip, 24, 48);
    for part in text.split([',', ';', ' ']) {
        let _ = parse_node(part);
    }
    // An untrusted peer's headers are never believed.
    let outsider = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    assert_eq!(client_ip(outsider, &headers, &trusted), outsider);
});
