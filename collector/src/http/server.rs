//! Each accepted connection: connection caps (total and per client address), optional
//! PROXY protocol v2, HTTP/1.1 keep-alive and h2c via hyper-util's auto builder with
//! explicit protocol limits, every connection watched by its [`Deadlines`], and graceful
//! draining. The accept loop itself is `sightline_service::server`'s.

use std::{
    net::{IpAddr, SocketAddr},
    pin::pin,
    sync::Arc,
    time::Duration,
};

use hyper::service::service_fn;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{
    net::TcpStream,
    sync::{Semaphore, watch},
    time::Instant,
};

use super::{
    client_ip::is_trusted,
    connection::{Activity, Deadlines, Verdict},
    proxy_protocol, routes,
};
use crate::{
    limiters::concurrency::Slot,
    metrics::{CloseReason, ConnectionLimit},
    state::AppState,
};

/// What every connection task shares with the accept loop.
pub struct Shared {
    pub state: Arc<AppState>,
    pub builder: auto::Builder<TokioExecutor>,
    /// One permit per open connection (`server.max_connections`); shutdown waits until
    /// it can take them all back.
    pub connections: Arc<Semaphore>,
    /// Turns `true` when the server drains: every connection is asked to close.
    pub draining: watch::Receiver<bool>,
}

/// The collector's side of `sightline_service::server`'s accept loop.
pub struct Acceptor<'a>(pub &'a Arc<Shared>);

impl sightline_service::server::Acceptor for Acceptor<'_> {
    fn accept(&mut self, stream: TcpStream, peer: SocketAddr) {
        accept(self.0, stream, peer);
    }

    fn failed(&mut self, err: &std::io::Error) {
        // Logged here, not in the shared loop, so the line keeps this crate's target.
        tracing::warn!(%err, "accept failed");
    }
}

/// One connection from the accept loop: refused at once when a cap is reached (counted),
/// else served on its own task.
fn accept(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    // Without PROXY protocol the client is known now: its cap is checked
    // before it takes one of the connections everybody shares.
    let early_slot = if shared.state.config.server.proxy_protocol {
        None
    } else {
        let Some(slot) = per_ip_slot(&shared.state, peer.ip()) else {
            return;
        };
        Some(slot)
    };
    let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
        shared
            .state
            .metrics
            .count_connection_refused(ConnectionLimit::MaxConnections);
        drop(stream);
        return;
    };
    let _ = stream.set_nodelay(true);
    let shared = shared.clone();
    tokio::spawn(async move {
        let metrics = &shared.state.metrics;
        metrics.connections_open.inc();
        serve_connection(stream, peer, early_slot, &shared).await;
        metrics.connections_open.dec();
        drop(permit);
    });
}

/// A connection slot of `ip`'s address (`connections.max_per_ip`); exempt for a
/// trusted proxy: it speaks for many clients, which are capped per request by the
/// address it forwards (`server.max_in_flight_requests_per_ip`), not here. `None`:
/// refused (counted).
fn per_ip_slot(state: &AppState, ip: IpAddr) -> Option<Slot> {
    if is_trusted(ip, &state.config.server.trusted_proxies) {
        return Some(Slot::exempt());
    }
    match state.connections_per_ip.try_acquire(ip) {
        Some(slot) => Some(slot),
        None => {
            state
                .metrics
                .count_connection_refused(ConnectionLimit::MaxPerIp);
            tracing::debug!(%ip, "connections.max_per_ip reached");
            None
        }
    }
}

/// `slot`: the per-address connection slot when taken at accept (no PROXY protocol).
async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    slot: Option<Slot>,
    shared: &Shared,
) {
    let opened = Instant::now();
    let state = &shared.state;
    let config = &state.config;
    let mut client = peer;
    if config.server.proxy_protocol {
        let timeout = Duration::from_millis(config.server.proxy_protocol_timeout_ms);
        match tokio::time::timeout(timeout, proxy_protocol::read_header(&mut stream)).await {
            Ok(Ok(proxy_protocol::ProxyHeader::Proxy { source })) => client = source,
            Ok(Ok(proxy_protocol::ProxyHeader::Local)) => {}
            Ok(Err(err)) => {
                state.metrics.proxy_header_errors.inc();
                tracing::debug!(%peer, %err, "bad PROXY header");
                return;
            }
            Err(_) => {
                state.metrics.proxy_header_errors.inc();
                return;
            }
        }
    }
    let ip = client.ip();
    // Behind PROXY protocol the client is the header's source, known only now.
    let Some(_slot) = slot.or_else(|| per_ip_slot(state, ip)) else {
        return;
    };

    let activity = Activity::new(opened);
    let service = {
        let (state, activity) = (state.clone(), activity.clone());
        service_fn(move |request| {
            let in_progress = activity.begin();
            let state = state.clone();
            async move {
                let response = routes::handle(state, ip, request).await;
                drop(in_progress);
                response
            }
        })
    };
    let mut connection = pin!(
        shared
            .builder
            .serve_connection(TokioIo::new(stream), service)
    );
    let deadlines = Deadlines::from_config(config);
    let drain_grace = Duration::from_millis(config.shutdown.drain_timeout_ms);
    let mut draining = shared.draining.clone();
    // Once we asked the connection to close: when it is cut regardless.
    let mut cut_at: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let wake = match (cut_at, deadlines.verdict(&activity, now)) {
            (Some(cut), _) if now >= cut => break,
            (Some(cut), _) => cut,
            (None, Verdict::KeepUntil(at)) => at,
            (None, Verdict::Close(reason)) => {
                state.metrics.count_connection_closed(reason);
                tracing::debug!(%peer, reason = reason.as_str(), "closing connection");
                break;
            }
            (None, Verdict::Drain(reason)) => {
                state.metrics.count_connection_closed(reason);
                tracing::debug!(%peer, reason = reason.as_str(), "asking connection to close");
                connection.as_mut().graceful_shutdown();
                // An idle client has nothing in flight: a cooperating one is gone within a
                // round trip. A busy one (max age) gets the shutdown drain time.
                let grace = if reason == CloseReason::IdleTimeout {
                    deadlines.first_request
                } else {
                    drain_grace
                };
                cut_at = Some(now + grace);
                continue;
            }
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, %err, "connection ended with an error");
                }
                break;
            }
            _ = draining.wait_for(|draining| *draining), if cut_at.is_none() => {
                connection.as_mut().graceful_shutdown();
                cut_at = Some(Instant::now() + drain_grace);
            }
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// The HTTP protocol settings from the configuration.
pub fn builder(config: &crate::config::Config) -> auto::Builder<TokioExecutor> {
    let (server, limits) = (&config.server, &config.connections);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_millis(server.header_read_timeout_ms))
        // The read buffer bounds a request head: beyond it hyper answers 431.
        .max_buf_size(limits.max_header_bytes);
    let keep_alive_interval = (limits.http2_keep_alive_interval_ms > 0)
        .then(|| Duration::from_millis(limits.http2_keep_alive_interval_ms));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(limits.http2_max_pending_accept_reset_streams)
        .max_local_error_reset_streams(limits.http2_max_local_error_reset_streams)
        .max_send_buf_size(limits.http2_max_send_buf_bytes)
        .keep_alive_interval(keep_alive_interval)
        .keep_alive_timeout(Duration::from_millis(limits.http2_keep_alive_timeout_ms));
    if server.http2 {
        builder
    } else {
        builder.http1_only()
    }
}
