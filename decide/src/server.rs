//! Each accepted connection: a cap on open connections, HTTP/1.1 keep-alive with a header
//! read timeout, and graceful draining (every connection asked to close, cut after
//! `shutdown.drain_timeout_ms`). The accept loop itself is `sightline_service::server`'s.

use std::{net::SocketAddr, sync::Arc, time::Duration};

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

/// The decision service's side of `sightline_service::server`'s accept loop.
pub struct Acceptor<'a> {
    pub state: &'a Arc<AppState>,
    pub builder: &'a auto::Builder<TokioExecutor>,
    /// Tracks every connection for the drain.
    pub graceful: &'a GracefulShutdown,
    /// One permit per open connection (`server.max_connections`).
    pub connections: &'a Arc<Semaphore>,
}

impl sightline_service::server::Acceptor for Acceptor<'_> {
    /// Closed at once when no connection permit is left, else served on its own task and
    /// tracked for the drain.
    fn accept(&mut self, stream: TcpStream, _peer: SocketAddr) {
        let Acceptor {
            state,
            builder,
            graceful,
            connections,
        } = *self;
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

    fn failed(&mut self, err: &std::io::Error) {
        // Logged here, not in the shared loop, so the line keeps this crate's target.
        tracing::warn!(%err, "accept failed");
    }
}
