//! The JSON body extractor: malformed JSON, a non-object or a wrong type is a 400 and an
//! oversized body a 413, all in the failure envelope. Only POST handlers take it.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// An oversized body is read and discarded up to this size before the 413, so that a client
/// still sending gets the answer instead of a reset connection; beyond it the connection closes.
const DRAIN_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// Reads the body; `Err(413)` when it exceeds [`MAX_BODY_BYTES`].
async fn read_capped(mut body: Body) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    let mut total = 0_usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::bad_request("could not read the request body"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > DRAIN_LIMIT_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if total <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&data);
        }
    }
    if total > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// A deserialized JSON body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_capped(request.into_body()).await?;
        // serde would also read a struct from a JSON array: only an object is a valid body.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| ApiError::bad_request(format!("invalid JSON body: {error}")))
    }
}

/// A required field, or a 400 saying it is missing.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::bad_request(format!("{field} is required")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Body1 {
        amount: Option<u64>,
    }

    async fn extract(body: String) -> Result<Option<u64>, ApiError> {
        let request = Request::new(Body::from(body));
        JsonBody::<Body1>::from_request(request, &())
            .await
            .map(|JsonBody(b)| b.amount)
    }

    #[tokio::test]
    async fn objects_only_and_oversized_is_413() {
        assert_eq!(
            extract(r#"{"amount": 5}"#.to_owned()).await.ok(),
            Some(Some(5))
        );
        assert!(matches!(
            extract("[5]".to_owned()).await,
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            extract(r#"{"amount": "x"}"#.to_owned()).await,
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            extract(String::new()).await,
            Err(ApiError::BadRequest(_))
        ));
        let padding = "x".repeat(MAX_BODY_BYTES);
        let oversized = format!(r#"{{"amount": 5, "padding": "{padding}"}}"#);
        assert!(matches!(
            extract(oversized).await,
            Err(ApiError::PayloadTooLarge)
        ));
    }
}
