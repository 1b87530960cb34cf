//! One keep-alive HTTP/1.1 connection to the target, re-opened after an error.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    Request, StatusCode,
    client::conn::http1::SendRequest,
    header::{self, HeaderValue},
};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::target::Target;

/// Why a request got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("connect to {addr}: {source}")]
    Connect {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP handshake: {0}")]
    Handshake(hyper::Error),
    #[error("request: {0}")]
    Request(hyper::Error),
    #[error("building the request: {0}")]
    Build(#[from] http::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl SendError {
    /// Short label for the error table.
    pub fn label(&self) -> &'static str {
        match self {
            SendError::Connect { .. } | SendError::Handshake(_) => "connect",
            SendError::Request(_) | SendError::Build(_) => "io",
            SendError::Timeout(_) => "timeout",
        }
    }
}

/// The answer to one request.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// Headers every request carries.
#[derive(Debug, Clone)]
pub struct RequestShape {
    pub gzip: bool,
    /// `Origin` header (the collector checks it against the site's allowed origins).
    pub origin: Option<String>,
    pub timeout: Duration,
    /// `Authorization` (HTTP Basic write key) for the JSON import API; with it the body
    /// is sent as `application/json`.
    pub authorization: Option<HeaderValue>,
}

pub struct Connection {
    target: Target,
    shape: RequestShape,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    pub fn new(target: Target, shape: RequestShape) -> Self {
        Self {
            target,
            shape,
            sender: None,
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, SendError> {
        let stream = TcpStream::connect(self.target.addr)
            .await
            .map_err(|source| SendError::Connect {
                addr: self.target.addr,
                source,
            })?;
        // Small requests and answers: waiting for Nagle would add 40 ms to some of them.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(SendError::Handshake)?;
        tokio::spawn(async move {
            // The connection ends when its sender is dropped or the server closes it;
            // either way the next request reconnects, so the error has no one to go to.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// POSTs `body` and reads the whole answer; on any error the connection is dropped
    /// so the next call starts a fresh one.
    pub async fn post(
        &mut self,
        body: Bytes,
        forwarded_for: Option<&HeaderValue>,
    ) -> Result<Answer, SendError> {
        let timeout = self.shape.timeout;
        match tokio::time::timeout(timeout, self.post_inner(body, forwarded_for)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => {
                self.sender = None;
                Err(e)
            }
            Err(_) => {
                self.sender = None;
                Err(SendError::Timeout(timeout))
            }
        }
    }

    async fn post_inner(
        &mut self,
        body: Bytes,
        forwarded_for: Option<&HeaderValue>,
    ) -> Result<Answer, SendError> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(SendError::Request)?;
        let mut request = Request::post(self.target.path.as_str())
            .header(header::HOST, self.target.authority.as_str())
            .header(
                header::CONTENT_TYPE,
                if self.shape.authorization.is_some() {
                    "application/json"
                } else {
                    "application/x-protobuf"
                },
            )
            .header(header::USER_AGENT, "sightline-loadgen/0.1");
        if let Some(authorization) = &self.shape.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        if self.shape.gzip {
            request = request.header(header::CONTENT_ENCODING, "gzip");
        }
        if let Some(address) = forwarded_for {
            request = request.header("x-forwarded-for", address);
        }
        if let Some(origin) = &self.shape.origin {
            request = request.header(header::ORIGIN, origin.as_str());
        }
        let request = request.body(Full::new(body))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(SendError::Request)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(SendError::Request)?
            .to_bytes();
        self.sender = Some(sender);
        Ok(Answer { status, body })
    }
}
