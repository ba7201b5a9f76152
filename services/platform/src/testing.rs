//! Handler-test support (feature `testing`): one request through a router, no network, the
//! answer as status and body text. Tests build their own requests; this is the shared tail.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Sends `request` through `router` and reads the whole answer.
pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A user registry that knows every id, for handler tests that sign their own tokens.
pub struct EveryoneKnown;

#[async_trait::async_trait]
impl crate::identity::KnownUsers for EveryoneKnown {
    async fn exists(&self, _user_id: u64) -> anyhow::Result<bool> {
        Ok(true)
    }
}

/// An authenticator on `secret` that knows everyone, and a long-lived token for `user_id`.
pub fn signed_in(secret: &[u8], user_id: u64) -> (crate::identity::Authenticator, String) {
    let authenticator =
        crate::identity::Authenticator::new(secret, std::sync::Arc::new(EveryoneKnown));
    let claims = crate::identity::Claims {
        sub: user_id.to_string(),
        iat: 1,
        exp: u64::MAX / 2,
    };
    let token = authenticator.sign(&claims).unwrap_or_default();
    (authenticator, token)
}
