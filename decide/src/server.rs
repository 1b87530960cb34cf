//! Accept loop: a cap on open connections, HTTP/1.1 keep-alive with a header read
//! timeout, and graceful draining (every connection asked to close, cut after
//! `shutdown.drain_timeout_ms`).

use std::{future::Future, pin::pin, sync::Arc, time::Duration};

use hyper::service::service_fn;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{net::TcpListener, sync::Semaphore};

use crate::{routes, state::AppState};

pub fn builder(state: &AppState) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_millis(
            state.config.server.header_read_timeout_ms,
        ))
        // The read buffer bounds a request head: beyond it hyper answers 431.
        .max_buf_size(state.config.server.max_header_bytes);
    builder.http1_only()
}

/// Serves connections from `listener` until `stop` resolves; the connections still open
/// are then tracked by `graceful`.
pub async fn accept_until(
    listener: &TcpListener,
    state: &Arc<AppState>,
    builder: &auto::Builder<TokioExecutor>,
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
                let (stream, _peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // EMFILE and friends: back off briefly instead of spinning.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = {
                    let state = state.clone();
                    service_fn(move |request| routes::handle(state.clone(), request))
                };
                let connection = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    // An idle keep-alive connection is closed by hyper once no request
                    // head arrives within `server.header_read_timeout_ms`.
                    let _ = connection.await;
                    drop(permit);
                });
            }
        }
    }
}
