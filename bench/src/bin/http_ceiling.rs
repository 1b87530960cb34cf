//! The HTTP ceiling: a bare hyper 1 server that reads the whole request body and answers
//! 204. Whatever the collector does on top of this costs throughput; this is the most a
//! hyper server can take from the load generator on this machine.
//!
//!   http-ceiling --listen 127.0.0.1:19480

use std::{convert::Infallible, net::SocketAddr};

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::{Request, Response, StatusCode, body::Incoming, service::service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sightline_bench::target::loopback_listen_addr;
use tokio::net::TcpListener;

#[derive(Parser, Debug)]
#[command(about = "Bare hyper server: read the body, answer 204 (loopback only)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:19480", value_parser = loopback_listen_addr)]
    listen: SocketAddr,
    /// Worker threads (default: one per core, like the collector's runtime).
    #[arg(long)]
    threads: Option<usize>,
    /// Largest body read; larger ones get 413, as any real server would answer.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
}

async fn handle(
    request: Request<Incoming>,
    max_body: usize,
) -> Result<Response<Empty<Bytes>>, Infallible> {
    let status = match Limited::new(request.into_body(), max_body).collect().await {
        Ok(body) => {
            // Touch the bytes so the read cannot be optimised into nothing.
            std::hint::black_box(body.to_bytes());
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE,
    };
    let mut response = Response::new(Empty::new());
    *response.status_mut() = status;
    Ok(response)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads.max(1));
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    println!("http-ceiling listening on http://{}", args.listen);
    let max_body = args.max_body_bytes;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(request, max_body));
            // Client disconnects end connections with an error; nothing to do about it.
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
