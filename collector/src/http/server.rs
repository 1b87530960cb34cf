//! Accept loop: connection cap, optional PROXY protocol v2, HTTP/1.1 keep-alive and
//! h2c via hyper-util's auto builder, header-read timeout, and graceful draining.

use std::{future::Future, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use hyper::service::service_fn;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{net::TcpListener, sync::Semaphore};

use super::{proxy_protocol, routes};
use crate::state::AppState;

/// Runs the accept loop until `stop` resolves; every accepted connection is watched by
/// `graceful` so shutdown can wait for it.
pub async fn accept_until(
    listener: &TcpListener,
    state: &Arc<AppState>,
    builder: &Arc<auto::Builder<TokioExecutor>>,
    graceful: &GracefulShutdown,
    connections: &Arc<Semaphore>,
    stop: impl Future<Output = ()>,
) {
    let mut stop = pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // EMFILE and friends: back off briefly instead of spinning.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    state.metrics.connections_refused.inc();
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    state.metrics.connections_open.inc();
                    serve_connection(stream, peer, state.clone(), builder, watcher).await;
                    state.metrics.connections_open.dec();
                    drop(permit);
                });
            }
        }
    }
}

async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<AppState>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let mut client = peer;
    if state.config.server.proxy_protocol {
        let timeout = Duration::from_millis(state.config.server.proxy_protocol_timeout_ms);
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
    let service = service_fn(move |request| routes::handle(state.clone(), ip, request));
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .into_owned();
    if let Err(err) = watcher.watch(connection).await {
        tracing::debug!(%peer, %err, "connection ended with an error");
    }
}

/// The HTTP protocol settings from the configuration.
pub fn builder(config: &crate::config::ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_millis(config.header_read_timeout_ms));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(256);
    if config.http2 {
        builder
    } else {
        builder.http1_only()
    }
}
