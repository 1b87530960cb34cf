//! Reading the request body: bounded in size (413) and in time (408), so neither a
//! huge nor a trickling body can hold memory or a connection for long.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

use crate::error::ApiError;

/// Collects `body` into memory, refusing it as soon as it exceeds `limit` bytes or
/// has not fully arrived within `timeout`.
pub async fn read_limited<B>(body: B, limit: usize, timeout: Duration) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    match tokio::time::timeout(timeout, collect(body, limit)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::RequestTimeout(timeout)),
    }
}

async fn collect<B>(mut body: B, limit: usize) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::BodyTooLarge { limit });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;

    #[tokio::test]
    async fn within_limit_is_returned_whole() {
        let body = Full::new(Bytes::from_static(b"hello"));
        let got = read_limited(body, 5, Duration::from_secs(1)).await.unwrap();
        assert_eq!(&got[..], b"hello");
    }

    #[tokio::test]
    async fn over_limit_is_413() {
        let body = Full::new(Bytes::from_static(b"hello!"));
        let err = read_limited(body, 5, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err, ApiError::BodyTooLarge { limit: 5 });
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_ends_times_out() {
        let stream = futures::stream::pending::<Result<Frame<Bytes>, std::io::Error>>();
        let body = StreamBody::new(stream);
        let err = read_limited(body, 5, Duration::from_secs(3))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "request_timeout");
    }
}
