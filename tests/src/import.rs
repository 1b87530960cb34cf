//! The JSON import API from the tests' side: a collector configured with import sources,
//! and requests carrying a write key as the Segment/RudderStack libraries send it.

use std::net::SocketAddr;

use sightline_collector::config::{Config, SourceConfig, SourceKind};

use crate::collector::{Reply, SITE, client, request, test_config};

/// Write key of the test's server source (trusted for `context.ip`).
pub const SERVER_KEY: &str = "test-server-write-key-0001";
/// Write key of the test's app source (not trusted for `context.ip`).
pub const APP_KEY: &str = "test-app-write-key-000002";

/// [`test_config`] plus a server source `backend` and an app source `ios`.
pub fn import_config() -> Config {
    let mut config = test_config();
    config.sources = vec![
        SourceConfig {
            name: "backend".into(),
            site: SITE.into(),
            write_key: SERVER_KEY.into(),
            kind: SourceKind::Server,
            trust_client_ip: true,
        },
        SourceConfig {
            name: "ios".into(),
            site: SITE.into(),
            write_key: APP_KEY.into(),
            kind: SourceKind::App,
            trust_client_ip: false,
        },
    ];
    config
}

/// `Authorization: Basic base64(key ":")`, as the libraries build it.
pub fn basic(key: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{key}:").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `POST {path}` with a JSON content type, the write key `key` (if any) and extra headers.
pub async fn post_import(
    addr: SocketAddr,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<Reply> {
    let auth = key.map(basic);
    let mut all: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        all.push(("authorization", auth));
    }
    all.extend_from_slice(headers);
    request(
        &client(),
        http::Method::POST,
        &format!("http://{addr}{path}"),
        &all,
        body,
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_matches_the_libraries() {
        // Python: base64.b64encode(b"abc:") == b"YWJjOg=="
        assert_eq!(super::basic("abc"), "Basic YWJjOg==");
        assert_eq!(super::basic("abcd"), "Basic YWJjZDo=");
        assert_eq!(super::basic("ab"), "Basic YWI6");
    }
}
