//! Small HTTP answers with a full body.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// Every answer of the services: the body is always complete before it is sent.
pub type HttpResponse = Response<Full<Bytes>>;

/// `status` with `body` and its `Content-Type`.
pub fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `status` with `value` as compact JSON.
pub fn json(status: StatusCode, value: serde_json::Value) -> HttpResponse {
    with_body(status, "application/json", value.to_string())
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn body(response: HttpResponse) -> Bytes {
        match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn json_sets_status_type_and_compact_body() {
        let response = json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "not_ready"}),
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            HeaderValue::from_static("application/json")
        );
        assert_eq!(
            body(response).await,
            Bytes::from_static(b"{\"status\":\"not_ready\"}")
        );
    }

    #[tokio::test]
    async fn with_body_keeps_an_empty_body() {
        let response = with_body(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            HeaderValue::from_static("text/plain")
        );
        assert!(body(response).await.is_empty());
    }
}
