//! The API error: every failure of every handler ends here and becomes one status plus the
//! failure envelope. Causes of unexpected errors are logged once, never sent to the client.

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
    /// A dependency (store, shard) is gone: a bug or an outage, never the client's fault (500).
    #[error("internal error")]
    Unexpected(#[source] anyhow::Error),
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
    fn from(error: anyhow::Error) -> Self {
        Self::Unexpected(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Unexpected(cause) = &self {
            tracing::error!(error = ?cause, "request failed unexpectedly");
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
}
