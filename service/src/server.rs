//! Binding, the accept loop through the readiness grace, and the shutdown signal. What a
//! service does with each connection (caps, protocol, drain) is its own: it is handed
//! every accepted stream.

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

/// Hands every connection accepted on `listener` to `on_accept` until `stop` resolves.
/// `on_accept` must not wait: it spawns whatever serves the connection.
pub async fn accept_until(
    listener: &TcpListener,
    stop: impl Future<Output = ()>,
    on_accept: &mut impl FnMut(TcpStream, SocketAddr),
) {
    let mut stop = pin!(stop);
    loop {
        tokio::select! {
            // Stop first: under a flood of connections shutdown still gets its turn.
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => on_accept(stream, peer),
                Err(err) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(%err, "accept failed");
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
    mut on_accept: impl FnMut(TcpStream, SocketAddr),
) {
    accept_until(&listener, shutdown, &mut on_accept).await;
    tracing::info!("shutdown requested: readyz now 503");
    start_draining();
    let grace = tokio::time::sleep(readiness_grace);
    accept_until(&listener, grace, &mut on_accept).await;
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
                move |_stream, _peer| {
                    accepted.fetch_add(1, Ordering::SeqCst);
                },
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
