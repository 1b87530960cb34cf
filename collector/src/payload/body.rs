//! Reading the request body: bounded in size (413), in time (408) and, over all
//! requests together, in bytes held (503 `overloaded`), so neither a huge nor a
//! trickling body, nor many of them, can hold memory or a connection for long.

use std::{sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Bytes of the shared body budget (`server.max_buffered_body_bytes`) a body holds;
/// they return to the budget when this is dropped.
#[derive(Debug, Default)]
pub struct Buffered(Option<OwnedSemaphorePermit>);

impl Buffered {
    pub fn bytes(&self) -> usize {
        self.0.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }
}

/// Collects `body` into memory, refusing it as soon as it exceeds `limit` bytes, has
/// not fully arrived within `timeout`, or the next chunk does not fit in `budget`
/// (one permit per byte, charged as bytes arrive: a sender pays for what it sent, not
/// for what it declared and never sends).
pub async fn read_limited<B>(
    body: &mut B,
    limit: usize,
    timeout: Duration,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, Buffered), ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    match tokio::time::timeout(timeout, collect(body, limit, budget)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::RequestTimeout(timeout)),
    }
}

async fn collect<B>(
    body: &mut B,
    limit: usize,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, Buffered), ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut out = BytesMut::new();
    let mut held = Buffered::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::BodyTooLarge { limit });
            }
            charge(&mut held, budget, data.len())?;
            out.extend_from_slice(&data);
        }
    }
    Ok((out.freeze(), held))
}

fn charge(held: &mut Buffered, budget: &Arc<Semaphore>, bytes: usize) -> Result<(), ApiError> {
    if bytes == 0 {
        return Ok(());
    }
    let permit = u32::try_from(bytes)
        .ok()
        .and_then(|n| budget.clone().try_acquire_many_owned(n).ok())
        .ok_or(ApiError::Overloaded)?;
    match &mut held.0 {
        Some(existing) => existing.merge(permit),
        None => held.0 = Some(permit),
    }
    Ok(())
}

/// Reads and throws away what is left of a refused request's body, in the background, once
/// the answer is on its way (a "lingering close", as nginx does it). Closing a socket with
/// unread input makes the kernel answer with a reset, which can destroy the 413 or 401
/// still in flight: the client then sees a broken connection instead of the refusal, and
/// the server libraries of the import API retry connection errors (they give up on 4xx).
/// Bounded: nothing is read when more than `max_bytes` are declared, reading stops past
/// `max_bytes` or after `timeout`, and 0 turns it off; then the connection just closes.
pub fn discard_in_background<B>(body: B, max_bytes: usize, timeout: Duration)
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Send,
{
    if max_bytes == 0 || body.is_end_stream() || body.size_hint().lower() > max_bytes as u64 {
        return;
    }
    tokio::spawn(tokio::time::timeout(timeout, discard(body, max_bytes)));
}

/// Bytes read and thrown away before the body ended or passed `max_bytes`.
async fn discard<B>(mut body: B, max_bytes: usize) -> usize
where
    B: Body<Data = Bytes> + Unpin,
{
    let mut seen = 0;
    while seen <= max_bytes {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(_)) | None => break,
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;

    fn budget(bytes: usize) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(bytes))
    }

    #[tokio::test]
    async fn within_limit_is_returned_whole_and_holds_its_bytes_until_dropped() {
        let budget = budget(100);
        let mut body = Full::new(Bytes::from_static(b"hello"));
        let (got, held) = read_limited(&mut body, 5, Duration::from_secs(1), &budget)
            .await
            .unwrap();
        assert_eq!(&got[..], b"hello");
        assert_eq!(held.bytes(), 5);
        assert_eq!(budget.available_permits(), 95);
        drop(held);
        assert_eq!(budget.available_permits(), 100);
    }

    #[tokio::test]
    async fn over_limit_is_413() {
        let mut body = Full::new(Bytes::from_static(b"hello!"));
        let err = read_limited(&mut body, 5, Duration::from_secs(1), &budget(100))
            .await
            .unwrap_err();
        assert_eq!(err, ApiError::BodyTooLarge { limit: 5 });
    }

    #[tokio::test]
    async fn over_the_shared_budget_is_503_overloaded_and_gives_back_what_it_took() {
        let budget = budget(8);
        let chunks = futures::stream::iter(
            [&b"12345"[..], b"678", b"9"]
                .map(|c| Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(c)))),
        );
        let err = read_limited(
            &mut StreamBody::new(chunks),
            100,
            Duration::from_secs(1),
            &budget,
        )
        .await
        .unwrap_err();
        assert_eq!(err, ApiError::Overloaded);
        assert_eq!(budget.available_permits(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_ends_times_out_holding_only_what_arrived() {
        let budget = budget(100);
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(Frame::data(
            Bytes::from_static(b"ab"),
        ))])
        .chain(futures::stream::pending());
        let mut body = StreamBody::new(stream);
        let reading = read_limited(&mut body, 5, Duration::from_secs(3), &budget);
        let mut reading = std::pin::pin!(reading);
        assert!(futures::poll!(reading.as_mut()).is_pending());
        assert_eq!(budget.available_permits(), 98, "charged as bytes arrive");
        let err = reading.await.unwrap_err();
        assert_eq!(err.code(), "request_timeout");
        assert_eq!(budget.available_permits(), 100);
    }

    #[tokio::test]
    async fn what_is_left_is_read_up_to_its_bound() {
        let chunks = |n: usize| {
            StreamBody::new(futures::stream::iter((0..n).map(|_| {
                Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(b"12345")))
            })))
        };
        assert_eq!(discard(chunks(3), 100).await, 15, "to the end");
        assert_eq!(
            discard(chunks(100), 12).await,
            15,
            "stops once past the bound"
        );
    }
}
