//! Test endpoint for the browser suite (`node --test tests/browser/`).
//!
//! - `GET /pages/...` serves `tests/browser/pages/`, `GET /pkg/...` serves `sdk-wasm/pkg/`.
//! - `POST /v1/batch` (text/plain, application/x-protobuf or octet-stream; CORS allowed)
//!   decodes the body as a `sightline.v1.Batch`; undecodable bodies answer 400 and are counted.
//! - `GET /batches` returns every decoded batch as JSON (ids as hex), in arrival order.
//! - `GET /pages/...?csp=POLICY` serves the page with `Content-Security-Policy: POLICY`
//!   (percent-decoded), for the SDK's CSP tests (tests/browser/csp.test.mjs).
//! - `POST /v1/unavailable?site=…&reason=…` (the SDK's fallback beacon when it cannot start)
//!   is recorded as `{site, reason}` in `GET /batches`' `unavailable`.
//! - `POST /control?fail=503|429|drop&count=N` makes the next N batch requests fail
//!   (503 / 429 with `Retry-After: 1` / connection dropped without an answer);
//!   `POST /control?reset=1` clears the recorded batches and failure settings.
//!
//! Prints `listening on http://127.0.0.1:PORT` once ready (PORT from `--port`, default any).

use std::{
    net::SocketAddr,
    path::{Component, Path, PathBuf},
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use prost::Message;
use sightline_proto::v1::Batch;
use tokio::net::TcpListener;

/// Largest request body accepted (the SDK keeps batches under 64 KB).
const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Default)]
struct State {
    batches: Vec<serde_json::Value>,
    unavailable: Vec<serde_json::Value>,
    undecodable: u32,
    failed: u32,
    fail_mode: Option<String>,
    fail_count: u32,
}

type Shared = Arc<Mutex<State>>;

fn response(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = content_type.parse() {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static("retry-after"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("css") => "text/css",
        _ => "application/octet-stream",
    }
}

/// Serves `rest` below `root`, refusing `..` and absolute components.
async fn serve_file(root: &Path, rest: &str) -> Response<Full<Bytes>> {
    let relative = Path::new(rest);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return response(StatusCode::BAD_REQUEST, "text/plain", "bad path");
    }
    let path = root.join(relative);
    match tokio::fs::read(&path).await {
        Ok(data) => response(StatusCode::OK, content_type(&path), data),
        Err(_) => response(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

/// `%XX` and `+` decoded (a CSP in a query string); invalid escapes are kept as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        pair.split_once('=')
            .filter(|(key, _)| *key == name)
            .map(|(_, value)| value)
    })
}

/// `Err(())` asks the connection to be dropped without an answer (network failure test).
async fn handle(
    request: Request<Incoming>,
    state: Shared,
    root: Arc<PathBuf>,
) -> Result<Response<Full<Bytes>>, ()> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let method = request.method().clone();
    if method == Method::OPTIONS {
        return Ok(response(StatusCode::NO_CONTENT, "text/plain", ""));
    }
    if method == Method::POST && path == "/v1/batch" {
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return Ok(response(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    "unreadable body",
                ));
            }
        };
        let mut state = state.lock().map_err(|_| ())?;
        if state.fail_count > 0 {
            state.fail_count -= 1;
            state.failed += 1;
            match state.fail_mode.as_deref() {
                Some("drop") => return Err(()),
                Some("429") => {
                    let mut answer =
                        response(StatusCode::TOO_MANY_REQUESTS, "text/plain", "slow down");
                    answer
                        .headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                    return Ok(answer);
                }
                _ => {
                    return Ok(response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain",
                        "unavailable",
                    ));
                }
            }
        }
        if body.len() > MAX_BODY_BYTES {
            return Ok(response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                "too large",
            ));
        }
        return Ok(match Batch::decode(body.as_ref()) {
            Ok(batch) => {
                let mut json = serde_json::to_value(&batch).unwrap_or(serde_json::Value::Null);
                if let Some(object) = json.as_object_mut() {
                    object.insert("_bytes".into(), serde_json::Value::from(body.len()));
                }
                state.batches.push(json);
                response(StatusCode::NO_CONTENT, "text/plain", "")
            }
            Err(_) => {
                state.undecodable += 1;
                response(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    "not a sightline.v1.Batch",
                )
            }
        });
    }
    if method == Method::POST && path == "/v1/unavailable" {
        let mut state = state.lock().map_err(|_| ())?;
        let report = serde_json::json!({
            "site": query_value(&query, "site").map(percent_decode),
            "reason": query_value(&query, "reason").map(percent_decode),
        });
        state.unavailable.push(report);
        return Ok(response(StatusCode::NO_CONTENT, "text/plain", ""));
    }
    if method == Method::GET && path == "/batches" {
        let state = state.lock().map_err(|_| ())?;
        let body = serde_json::json!({
            "batches": state.batches,
            "unavailable": state.unavailable,
            "undecodable": state.undecodable,
            "failed": state.failed,
        });
        return Ok(response(
            StatusCode::OK,
            "application/json",
            body.to_string(),
        ));
    }
    if method == Method::POST && path == "/control" {
        let mut state = state.lock().map_err(|_| ())?;
        if query_value(&query, "reset").is_some() {
            *state = State::default();
        }
        if let Some(mode) = query_value(&query, "fail") {
            state.fail_mode = Some(mode.to_string());
            state.fail_count = query_value(&query, "count")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
        }
        return Ok(response(StatusCode::NO_CONTENT, "text/plain", ""));
    }
    if method == Method::GET {
        if let Some(rest) = path.strip_prefix("/pages/") {
            let mut page = serve_file(&root.join("tests/browser/pages"), rest).await;
            if let Some(policy) = query_value(&query, "csp") {
                let value =
                    header::HeaderValue::from_str(&percent_decode(policy)).map_err(|_| ())?;
                page.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, value);
            }
            return Ok(page);
        }
        if let Some(rest) = path.strip_prefix("/pkg/") {
            return Ok(serve_file(&root.join("sdk-wasm/pkg"), rest).await);
        }
    }
    Ok(response(StatusCode::NOT_FOUND, "text/plain", "not found"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--port" {
            port = args
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("--port needs a number"))?;
        }
    }
    // Repository root: this binary lives in tests/, the files it serves are relative to the root.
    let root = Arc::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let state: Shared = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let (state, root) = (state.clone(), root.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let (state, root) = (state.clone(), root.clone());
                async move {
                    match handle(request, state, root).await {
                        Ok(response) => Ok::<_, std::io::Error>(response),
                        Err(()) => Err(std::io::Error::other("dropped on purpose")),
                    }
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
