//! Raw TCP clients for the connection-abuse tests: connections from a chosen loopback
//! address (all of 127.0.0.0/8 reaches the collector on Linux), optionally behind a
//! PROXY protocol v2 header, that send exactly the bytes a test wants and report when the
//! server closes them.

use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use sightline_collector::http::proxy_protocol;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

/// The HTTP/2 connection preface (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: what a client sends right after the preface.
pub const H2_EMPTY_SETTINGS: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
/// HTTP/2 frame type PING.
pub const H2_PING: u8 = 0x6;
/// HTTP/2 frame type GOAWAY.
pub const H2_GOAWAY: u8 = 0x7;

/// A TCP connection to `addr` whose source address is `source` (e.g. `127.0.0.2`).
pub async fn connect_from(source: &str, addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let source: IpAddr = source.parse()?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket
        .connect(addr)
        .await
        .with_context(|| format!("connect from {source} to {addr}"))
}

/// A connection from 127.0.0.1 that first sends a PROXY v2 header naming `source` as the
/// client (what a network load balancer does).
pub async fn connect_as(source: &str, addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    let source: SocketAddr = SocketAddr::new(source.parse()?, 40_000);
    stream
        .write_all(&proxy_protocol::encode(source, addr))
        .await?;
    Ok(stream)
}

/// What the server did with a connection that a test stopped writing to.
#[derive(Debug)]
pub struct Closed {
    /// From the call until the server closed (EOF or reset).
    pub after: Duration,
    /// Everything the server sent before closing.
    pub received: Vec<u8>,
}

/// Reads until the server closes `stream`; an error if it is still open after `limit`.
pub async fn wait_closed(stream: &mut TcpStream, limit: Duration) -> anyhow::Result<Closed> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => anyhow::bail!(
                "still open after {limit:?} ({} bytes received)",
                received.len()
            ),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Ok(Closed {
                    after: started.elapsed(),
                    received,
                });
            }
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server has closed `stream` already (never waits).
pub fn is_closed(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// The types of the HTTP/2 frames in `bytes` (a server's side of a connection, which
/// starts with frames: the server sends no preface).
pub fn h2_frame_types(bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 9 {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        types.push(rest[3]);
        rest = rest.get(9 + len..).unwrap_or_default();
    }
    types
}

/// `GET /healthz` on a fresh connection from `source` with `Connection: close`; the
/// status, or an error when the connection was refused, reset or closed unanswered.
pub async fn healthz_from(source: &str, addr: SocketAddr) -> anyhow::Result<u16> {
    let mut stream = connect_from(source, addr).await?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: collector\r\nconnection: close\r\n\r\n")
        .await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply))
        .await
        .context("no answer within 10 s")??;
    status_of(&reply).context("closed without an answer")
}

/// The status code of an HTTP/1.1 response.
pub fn status_of(reply: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(reply.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// An HTTP/1.1 client on `stream` (keep-alive; the stream may already carry a PROXY
/// header).
pub async fn http1_on(
    stream: TcpStream,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// `method path` with `headers` and `body` on an HTTP/1.1 client; the status and body.
pub async fn request_on(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    method: http::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<(u16, String)> {
    sender.ready().await?;
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "collector");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body)))?)
        .await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// `POST /v1/batch` of a protobuf `body` with extra `headers`; the status and body.
pub async fn post_on(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> anyhow::Result<(u16, String)> {
    let mut all = vec![("content-type", "application/x-protobuf")];
    all.extend_from_slice(headers);
    request_on(sender, http::Method::POST, "/v1/batch", &all, body).await
}

/// `/metrics` of a collector that requires PROXY headers, asked as `source`.
pub async fn metrics_as(source: &str, addr: SocketAddr) -> anyhow::Result<String> {
    let mut sender = http1_on(connect_as(source, addr).await?).await?;
    Ok(
        request_on(&mut sender, http::Method::GET, "/metrics", &[], Vec::new())
            .await?
            .1,
    )
}
