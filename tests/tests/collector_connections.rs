//! Connection abuse against the real server (issue 14): connections that never produce a
//! request (silent, part of the HTTP/2 preface, the h2c preface and then nothing) are
//! closed at `server.header_read_timeout_ms`; idle HTTP/2 connections are pinged and
//! closed at `connections.idle_timeout_ms`; one address cannot hold more than
//! `connections.max_per_ip` connections, so a lock-out attempt at `server.max_connections`
//! leaves `/healthz` answering; behind a load balancer the cap counts the real clients.

use std::time::Duration;

use anyhow::Context as _;

use sightline_collector::config::Config;
use sightline_proto::v1::{Click, event::Kind};
use sightline_tests::{
    collector::{TestCollector, batch, metric, metrics, test_config},
    raw::{
        H2_EMPTY_SETTINGS, H2_GOAWAY, H2_PING, H2_PREFACE, connect_as, connect_from,
        h2_frame_types, healthz_from, http1_on, is_closed, metrics_as, post_on, status_of,
        wait_closed,
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const HEADER_TIMEOUT: Duration = Duration::from_millis(800);
/// How late after its deadline a close still counts (a shared, loaded machine).
const SLACK: Duration = Duration::from_secs(5);

fn config_with_header_timeout() -> Config {
    let mut config = test_config();
    config.server.header_read_timeout_ms = HEADER_TIMEOUT.as_millis() as u64;
    config
}

async fn closed_count(addr: std::net::SocketAddr, reason: &str) -> anyhow::Result<f64> {
    Ok(metric(
        &metrics(addr).await?,
        &format!("sightline_collector_connections_closed_total{{reason=\"{reason}\"}}"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_without_a_request_are_closed_at_the_header_timeout() -> anyhow::Result<()> {
    let mut config = config_with_header_timeout();
    // Pings on an idle HTTP/2 connection come well before the header timeout.
    config.connections.http2_keep_alive_interval_ms = 100;
    let collector = TestCollector::start(config).await?;
    let addr = collector.addr;

    let openers: [(&str, &[u8]); 5] = [
        ("silent", b""),
        ("one byte of the HTTP/2 preface", b"P"),
        ("half the HTTP/2 preface", b"PRI * HTTP/2.0\r\n"),
        ("h2c preface and SETTINGS, then nothing", &[]),
        (
            "half an HTTP/1.1 request head",
            b"GET /healthz HTTP/1.1\r\nhost: x\r\n",
        ),
    ];
    let opened = std::time::Instant::now();
    let mut streams = Vec::new();
    for (name, bytes) in openers {
        let mut stream = TcpStream::connect(addr).await?;
        if name.starts_with("h2c") {
            stream.write_all(H2_PREFACE).await?;
            stream.write_all(&H2_EMPTY_SETTINGS).await?;
        } else {
            stream.write_all(bytes).await?;
        }
        streams.push((name, stream));
    }
    let closes = futures::future::join_all(streams.iter_mut().map(|(name, stream)| async move {
        let closed = wait_closed(stream, HEADER_TIMEOUT + SLACK).await;
        (*name, closed, opened.elapsed())
    }))
    .await;
    for (name, closed, at) in closes {
        let closed = closed.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        // Closed by the deadline, not by anything earlier.
        assert!(
            at >= HEADER_TIMEOUT.saturating_sub(Duration::from_millis(100)),
            "{name}: closed {at:?} after opening"
        );
        if name.starts_with("h2c") {
            let frames = h2_frame_types(&closed.received);
            assert!(
                frames.contains(&H2_PING),
                "idle HTTP/2 connection is pinged: frames {frames:?}"
            );
        } else {
            assert!(
                status_of(&closed.received).is_none(),
                "{name}: nothing is answered"
            );
        }
    }
    // The three that hyper never times (and the half head, which it does, counted by
    // the watcher first since its deadline starts at accept).
    assert!(closed_count(addr, "header_timeout").await? >= 4.0);
    assert_eq!(get_status(addr).await?, 200, "the server itself is fine");
    collector.stop().await
}

async fn get_status(addr: std::net::SocketAddr) -> anyhow::Result<u16> {
    healthz_from("127.0.0.1", addr).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_http1_at_the_header_timeout_http2_with_goaway()
-> anyhow::Result<()> {
    let mut config = config_with_header_timeout();
    config.connections.idle_timeout_ms = 1_500;
    let collector = TestCollector::start(config).await?;
    let addr = collector.addr;

    // HTTP/1.1: one request, then idle: hyper times the next head.
    let mut h1 = TcpStream::connect(addr).await?;
    h1.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await?;
    let closed = wait_closed(&mut h1, HEADER_TIMEOUT + SLACK).await?;
    assert_eq!(status_of(&closed.received), Some(200));

    // HTTP/2: one request, then idle: GOAWAY at the idle timeout, then closed.
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    let connection = tokio::spawn(connection);
    let request = http::Request::get(format!("http://{addr}/healthz"))
        .body(http_body_util::Full::new(bytes::Bytes::new()))?;
    let response = sender.send_request(request).await?;
    assert_eq!(response.status(), 200);
    let idle_since = std::time::Instant::now();
    tokio::time::timeout(Duration::from_millis(1_500) + SLACK, connection)
        .await
        .map_err(|_| anyhow::anyhow!("idle HTTP/2 connection still open"))???;
    let idle_for = idle_since.elapsed();
    assert!(
        idle_for >= Duration::from_millis(1_200),
        "closed after {idle_for:?} idle"
    );
    assert_eq!(closed_count(addr, "idle_timeout").await?, 1.0);
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_idle_http2_client_gets_goaway_after_its_request() -> anyhow::Result<()> {
    // Same as above from a client that does not cooperate (never answers the server's
    // PINGs or SETTINGS): still closed, at the latest one header timeout after GOAWAY.
    let mut config = config_with_header_timeout();
    config.connections.idle_timeout_ms = 1_000;
    let collector = TestCollector::start(config).await?;
    let mut stream = TcpStream::connect(collector.addr).await?;
    stream.write_all(H2_PREFACE).await?;
    stream.write_all(&H2_EMPTY_SETTINGS).await?;
    // HEADERS, stream 1, END_STREAM | END_HEADERS: GET /healthz (HPACK static-table
    // indexes 2 = :method GET, 6 = :scheme http, then :path and :authority literals).
    let mut block = vec![0x82, 0x86];
    block.extend_from_slice(&[0x04, 8]);
    block.extend_from_slice(b"/healthz");
    block.extend_from_slice(&[0x01, 1, b'x']);
    let mut frame = vec![0, 0, block.len() as u8, 0x1, 0x5, 0, 0, 0, 1];
    frame.extend_from_slice(&block);
    stream.write_all(&frame).await?;
    let closed = wait_closed(
        &mut stream,
        Duration::from_millis(1_000) + HEADER_TIMEOUT + SLACK,
    )
    .await?;
    let frames = h2_frame_types(&closed.received);
    assert!(
        frames.contains(&0x1),
        "the request was answered: {frames:?}"
    );
    assert!(
        frames.contains(&H2_GOAWAY),
        "GOAWAY before close: {frames:?}"
    );
    collector.stop().await
}

/// Keeps up to `want` silent connections from `source` open until stopped, reopening
/// whatever the server closes (a persistent attacker).
fn hold_silent_connections(
    source: &'static str,
    addr: std::net::SocketAddr,
    want: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut held: Vec<TcpStream> = Vec::new();
        let mut opened = 0;
        while !*stop.borrow() {
            held.retain(|s| !is_closed(s));
            while held.len() < want {
                match connect_from(source, addr).await {
                    Ok(stream) => {
                        opened += 1;
                        held.push(stream);
                    }
                    Err(_) => break,
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        opened
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_out_attempt_at_max_connections_leaves_healthz_answering() -> anyhow::Result<()> {
    let mut config = config_with_header_timeout();
    config.server.max_connections = 8;
    config.connections.max_per_ip = 4;
    let collector = TestCollector::start(config).await?;
    let addr = collector.addr;

    // 1. One address keeps trying to hold every connection with silent sockets for
    //    three header timeouts: it gets 4, and /healthz from elsewhere always answers.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let attacker = hold_silent_connections("127.0.0.2", addr, 8, stop_rx);
    let mut answered = 0;
    let mut polls = 0;
    let until = std::time::Instant::now() + 3 * HEADER_TIMEOUT;
    while std::time::Instant::now() < until {
        polls += 1;
        match healthz_from("127.0.0.1", addr).await {
            Ok(200) => answered += 1,
            other => eprintln!("healthz: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(true);
    let opened = attacker.await?;
    assert_eq!(answered, polls, "every /healthz answered during the attack");
    assert!(
        opened > 8,
        "the attacker kept reconnecting ({opened} connections)"
    );
    let m = metrics(addr).await?;
    assert!(
        metric(
            &m,
            "sightline_collector_connections_refused_total{limit=\"max_per_ip\"}"
        ) > 0.0,
        "{m}"
    );
    assert!(closed_count(addr, "header_timeout").await? >= 4.0);

    // 2. Several addresses fill every connection: refused at accept, but only until the
    //    silent ones reach the header timeout.
    let mut silent = Vec::new();
    for source in ["127.0.0.3", "127.0.0.4"] {
        for _ in 0..4 {
            silent.push(connect_from(source, addr).await?);
        }
    }
    let attack = std::time::Instant::now();
    for stream in &mut silent {
        wait_closed(stream, HEADER_TIMEOUT + SLACK).await?;
    }
    let mut status = healthz_from("127.0.0.1", addr).await;
    // The last close and the freed permit race by microseconds; the answer must come
    // within a few more tries.
    for _ in 0..20 {
        if matches!(status, Ok(200)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        status = healthz_from("127.0.0.1", addr).await;
    }
    assert_eq!(status?, 200);
    assert!(attack.elapsed() < HEADER_TIMEOUT + SLACK);
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_v2_balancer_the_connection_cap_counts_real_clients() -> anyhow::Result<()> {
    let mut config = test_config();
    config.server.proxy_protocol = true;
    config.connections.max_per_ip = 2;
    let collector = TestCollector::start(config).await?;
    let addr = collector.addr;

    // Six clients through one balancer address (127.0.0.1), each on its own kept-alive
    // connection: the balancer is not one client.
    let mut senders = Vec::new();
    for i in 1..=6 {
        let mut sender = http1_on(connect_as(&format!("203.0.113.{i}"), addr).await?).await?;
        let body = batch(&format!("lb-{i}"), "", vec![Kind::Click(Click::default())]);
        let (status, text) = post_on(&mut sender, &[], prost::Message::encode_to_vec(&body))
            .await
            .with_context(|| format!("client {i}"))?;
        assert_eq!(status, 200, "{text}");
        senders.push(sender);
    }
    // One real client on a third connection is over the cap: closed unanswered.
    let mut first = http1_on(connect_as("198.51.100.9", addr).await?).await?;
    let mut second = http1_on(connect_as("198.51.100.9", addr).await?).await?;
    for (n, sender) in [&mut first, &mut second].into_iter().enumerate() {
        // Served (400: empty body), so each holds its slot before the third connects.
        let (status, _) = post_on(sender, &[], Vec::new())
            .await
            .with_context(|| format!("connection {n} of 198.51.100.9"))?;
        assert_eq!(status, 400);
    }
    let mut third = connect_as("198.51.100.9", addr).await?;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await?;
    let closed = wait_closed(&mut third, SLACK)
        .await
        .context("over the per-IP cap: closed")?;
    assert_eq!(
        status_of(&closed.received),
        None,
        "over the per-IP cap: no answer"
    );
    let m = metrics_as("192.0.2.1", addr).await?;
    assert_eq!(
        metric(
            &m,
            "sightline_collector_connections_refused_total{limit=\"max_per_ip\"}"
        ),
        1.0
    );
    drop(senders);
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_peer_is_not_capped_as_one_client() -> anyhow::Result<()> {
    let mut config = test_config();
    config.connections.max_per_ip = 2;
    config.server.trusted_proxies = vec!["127.0.0.1/32".parse()?];
    let collector = TestCollector::start(config).await?;
    let addr = collector.addr;
    let mut senders = Vec::new();
    for i in 1..=6 {
        let mut sender = http1_on(TcpStream::connect(addr).await?).await?;
        let xff = format!("203.0.113.{i}");
        let body = batch(&format!("xff-{i}"), "", vec![Kind::Click(Click::default())]);
        let (status, text) = post_on(
            &mut sender,
            &[("x-forwarded-for", &xff)],
            prost::Message::encode_to_vec(&body),
        )
        .await?;
        assert_eq!(status, 200, "{text}");
        senders.push(sender);
    }
    // An untrusted address on the same collector is capped.
    let mut a = http1_on(connect_from("127.0.0.2", addr).await?).await?;
    let mut b = http1_on(connect_from("127.0.0.2", addr).await?).await?;
    for sender in [&mut a, &mut b] {
        assert_eq!(post_on(sender, &[], Vec::new()).await?.0, 400);
    }
    let mut c = connect_from("127.0.0.2", addr).await?;
    let closed = wait_closed(&mut c, SLACK).await?;
    assert!(closed.after < HEADER_TIMEOUT, "refused at once");
    drop(senders);
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_heads_over_max_header_bytes_get_431_over_http1_and_http2() -> anyhow::Result<()> {
    let collector = TestCollector::start(test_config()).await?;
    let mut stream = TcpStream::connect(collector.addr).await?;
    let big = "a".repeat(40 * 1024);
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nhost: x\r\ncookie: {big}\r\n\r\n").as_bytes())
        .await?;
    let closed = wait_closed(&mut stream, SLACK).await?;
    assert_eq!(status_of(&closed.received), Some(431));
    // Within the limit (a large but ordinary cookie) is fine.
    let mut stream = TcpStream::connect(collector.addr).await?;
    let cookie = "b".repeat(16 * 1024);
    stream
        .write_all(
            format!(
                "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    let closed = wait_closed(&mut stream, SLACK).await?;
    assert_eq!(status_of(&closed.received), Some(200));

    // HTTP/2: the same limit as SETTINGS_MAX_HEADER_LIST_SIZE (h2 answers 431).
    let stream = TcpStream::connect(collector.addr).await?;
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(connection);
    let get = |cookie: &str| {
        http::Request::get(format!("http://{}/healthz", collector.addr))
            .header("cookie", cookie)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
    };
    let ok = sender.send_request(get(&cookie)?).await?;
    assert_eq!(ok.status(), 200);
    let too_big = sender.send_request(get(&big)?).await?;
    assert_eq!(too_big.status(), 431);
    collector.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_max_age_are_closed_after_their_answer() -> anyhow::Result<()> {
    let mut config = test_config();
    config.connections.max_age_ms = 600;
    let collector = TestCollector::start(config).await?;
    let mut stream = TcpStream::connect(collector.addr).await?;
    let opened = std::time::Instant::now();
    let mut answered = 0;
    let closed_after = loop {
        anyhow::ensure!(
            opened.elapsed() < Duration::from_millis(600) + SLACK,
            "still open after {:?}",
            opened.elapsed()
        );
        if stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .is_err()
        {
            break opened.elapsed();
        }
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(SLACK, stream.read(&mut buf)).await? {
            Ok(0) | Err(_) => break opened.elapsed(),
            Ok(n) => {
                assert_eq!(status_of(&buf[..n]), Some(200));
                answered += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(answered >= 3, "kept alive until then ({answered} answers)");
    assert!(
        closed_after >= Duration::from_millis(550),
        "{closed_after:?}"
    );
    assert_eq!(closed_count(collector.addr, "max_age").await?, 1.0);
    collector.stop().await
}
