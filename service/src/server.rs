//! Binding, the accept loop through the readiness grace, and the shutdown signal. What a
//! service does with each connection (caps, protocol, drain) is its own: it is handed
//! every accepted stream.
//!
//! The loop logs nothing itself: a `tracing` target is fixed where the macro stands, and
//! the services' lines keep their own (`sightline_collector`, `sightline_decide`), so
//! their log output and `RUST_LOG` filters stay as they were. The callers log in the
//! hooks they pass.

use std::{future::Future, net::SocketAddr, pin::pin, time::Duration};

use tokio::net::{TcpListener, TcpStream};

/// `server.listen` could not be bound (in use, no permission, no such address).
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    /// The address from the configuration.
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// Binds `addr`; also returns the address actually bound (the port chosen for port 0,
/// which tests rely on).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), BindError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| BindError { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| BindError { addr, source })?;
    Ok((listener, local_addr))
}

/// What the accept loop hands back to its service.
pub trait Acceptor {
    /// A new connection. Must not wait: spawns whatever serves it.
    fn accept(&mut self, stream: TcpStream, peer: SocketAddr);
    /// `accept` failed (EMFILE and friends); the loop backs off briefly after this.
    fn failed(&mut self, err: &std::io::Error);
}

/// Hands every connection accepted on `listener` to `acceptor` until `stop` resolves.
pub async fn accept_until(
    listener: &TcpListener,
    stop: impl Future<Output = ()>,
    acceptor: &mut impl Acceptor,
) {
    let mut stop = pin!(stop);
    loop {
        tokio::select! {
            // Stop first: under a flood of connections shutdown still gets its turn.
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => acceptor.accept(stream, peer),
                Err(err) => {
                    acceptor.failed(&err);
                    // EMFILE and friends: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Accepts until `shutdown` resolves, then calls `start_draining` (the service's
/// `/readyz` turns 503) and keeps accepting for `readiness_grace`, so load balancers see
/// the 503 and stop sending before the port closes. Returns with the listener closed;
/// draining the connections still open is the caller's.
pub async fn accept_through_grace(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    readiness_grace: Duration,
    start_draining: impl FnOnce(),
    mut acceptor: impl Acceptor,
) {
    accept_until(&listener, shutdown, &mut acceptor).await;
    start_draining();
    let grace = tokio::time::sleep(readiness_grace);
    accept_until(&listener, grace, &mut acceptor).await;
    drop(listener);
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C). A signal that cannot be listened for is
/// logged and never resolves, so the other one still stops the service.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    };

    use super::*;

    #[tokio::test]
    async fn bind_reports_the_address_it_could_not_take() {
        let (listener, addr) = bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("free port");
        let err = bind(addr).await.expect_err("port in use");
        assert_eq!(err.addr, addr);
        assert!(
            err.to_string()
                .starts_with(&format!("cannot listen on {addr}: "))
        );
        drop(listener);
    }

    struct Count(Arc<AtomicUsize>);

    impl Acceptor for Count {
        fn accept(&mut self, _stream: TcpStream, _peer: SocketAddr) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn failed(&mut self, _err: &std::io::Error) {}
    }

    #[tokio::test]
    async fn accepts_through_the_grace_then_closes() {
        let (listener, addr) = bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("free port");
        let accepted = Arc::new(AtomicUsize::new(0));
        let draining = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn({
            let (accepted, draining) = (accepted.clone(), draining.clone());
            accept_through_grace(
                listener,
                async {
                    let _ = stop_rx.await;
                },
                Duration::from_millis(300),
                move || draining.store(true, Ordering::SeqCst),
                Count(accepted),
            )
        });
        let _before = TcpStream::connect(addr).await.expect("connect before");
        let _ = stop_tx.send(());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            draining.load(Ordering::SeqCst),
            "draining starts at shutdown"
        );
        // Within the grace the port still accepts.
        let _during = TcpStream::connect(addr)
            .await
            .expect("connect during grace");
        server.await.expect("server task");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "closed after the grace"
        );
    }
}
