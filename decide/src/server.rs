//! Each accepted connection: a cap on open connections, HTTP/1.1 keep-alive with a header
//! read timeout, and graceful draining (every connection asked to close, cut after
//! `shutdown.drain_timeout_ms`). The accept loop itself is `sightline_service::server`'s.

use std::{sync::Arc, time::Duration};

use hyper::service::service_fn;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{net::TcpStream, sync::Semaphore};

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

/// One connection from the accept loop: closed at once when `connections` has no permit
/// left, else served on its own task and tracked by `graceful` for the drain.
pub fn accept(
    state: &Arc<AppState>,
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    connections: &Arc<Semaphore>,
    stream: TcpStream,
) {
    let Ok(permit) = connections.clone().try_acquire_owned() else {
        drop(stream);
        return;
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
