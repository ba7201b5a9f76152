//! The API error: every failure of every handler ends here and becomes one status plus the
//! failure envelope. Causes of unexpected errors are logged once, never sent to the client.
//!
//! Outages are told apart from bugs by a marker: an adapter wraps a failure of its outside
//! service (Redis, MongoDB, RabbitMQ unreachable) in [`Unavailable`], and converting an
//! `anyhow::Error` whose chain holds that marker gives a 503 instead of a 500. The client may
//! retry a 503; a 500 says something is wrong with the exchange itself.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A failed request, by the status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Validation or business rule failure (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing, invalid or expired credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// No such route (404).
    #[error("not found")]
    NotFound,
    /// The route exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is larger than the limit (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// An outside service the request needs is unreachable; retrying later may work (503).
    #[error("service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A dependency (store, shard) failed in a way that is not a known outage: a bug, never the
    /// client's fault (500).
    #[error("internal error")]
    Unexpected(#[source] anyhow::Error),
}

/// The marker an adapter wraps an outage of its outside service in, e.g.
/// `anyhow::Error::new(redis_error).context(Unavailable("redis"))`. Anywhere in an error's
/// chain, it turns the answer into a 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is unavailable")]
pub struct Unavailable(pub &'static str);

impl Unavailable {
    /// True when `error` is, carries as context, or was caused by an [`Unavailable`].
    pub fn is_in(error: &anyhow::Error) -> bool {
        // `downcast_ref` sees context layers added by anyhow (which `chain` shows only as
        // their display); `chain` sees sources inside other error types.
        error.downcast_ref::<Self>().is_some() || error.chain().any(|cause| cause.is::<Self>())
    }
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Serialize)]
struct Failure {
    success: bool,
    data: ErrorData,
}

#[derive(Serialize)]
struct ErrorData {
    error: String,
}

impl From<anyhow::Error> for ApiError {
    /// An outage (an [`Unavailable`] in the chain) is a 503, anything else a 500.
    fn from(error: anyhow::Error) -> Self {
        if Unavailable::is_in(&error) {
            Self::Unavailable(error)
        } else {
            Self::Unexpected(error)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Unexpected(cause) => {
                tracing::error!(error = ?cause, "request failed unexpectedly")
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = ?cause, "a dependency is unavailable")
            }
            _ => {}
        }
        let body = Failure {
            success: false,
            data: ErrorData {
                error: self.to_string(),
            },
        };
        (self.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(error: ApiError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
        (
            status,
            String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned(),
        )
    }

    #[tokio::test]
    async fn bad_request_is_400_in_the_envelope() {
        let (status, body) = body_of(ApiError::bad_request("nope")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, r#"{"success":false,"data":{"error":"nope"}}"#);
    }

    #[tokio::test]
    async fn unexpected_hides_its_cause() {
        let (status, body) = body_of(ApiError::Unexpected(anyhow::anyhow!("disk on fire"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.contains("disk"), "{body}");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("pool failed")]
    struct PoolError(#[source] Unavailable);

    #[test]
    fn an_outage_anywhere_in_the_chain_is_unavailable_and_anything_else_unexpected() {
        let io = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let marked = anyhow::Error::new(io()).context(Unavailable("redis"));
        let wrapped = anyhow::Error::new(io())
            .context(Unavailable("redis"))
            .context("reading a balance");
        let as_source = anyhow::Error::new(PoolError(Unavailable("mongo"))).context("listing");
        for error in [marked, wrapped, as_source] {
            let text = format!("{error:#}");
            assert!(
                matches!(ApiError::from(error), ApiError::Unavailable(_)),
                "{text}"
            );
        }
        let plain = anyhow::Error::new(io()).context("reading a balance");
        assert!(matches!(ApiError::from(plain), ApiError::Unexpected(_)));
    }

    #[tokio::test]
    async fn unavailable_is_503_in_the_envelope_and_hides_its_cause() {
        let error = anyhow::Error::new(std::io::Error::other("10.0.0.7 refused"))
            .context(Unavailable("redis"));
        let (status, body) = body_of(ApiError::from(error)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            r#"{"success":false,"data":{"error":"service temporarily unavailable"}}"#
        );
    }

    /// A handler that propagates a store error with `?`, the way every handler does.
    async fn handler(outage: bool) -> crate::envelope::ApiResult<()> {
        let failure = anyhow::anyhow!("connection refused");
        Err(if outage {
            failure.context(Unavailable("redis"))
        } else {
            failure
        })?
    }

    #[tokio::test]
    async fn a_handler_propagating_an_outage_answers_503_and_a_bug_500() {
        use tower::ServiceExt;
        let router = axum::Router::new()
            .route("/outage", axum::routing::get(|| handler(true)))
            .route("/bug", axum::routing::get(|| handler(false)));
        for (path, expected) in [
            ("/outage", StatusCode::SERVICE_UNAVAILABLE),
            ("/bug", StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            let request = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap_or_else(|e| panic!("request: {e}"));
            let response = router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            assert_eq!(response.status(), expected, "{path}");
            let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
            let body = String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned();
            assert!(
                body.starts_with(r#"{"success":false,"data":{"error":"#),
                "{body}"
            );
        }
    }
}
