//! The composed app in-process on a temporary data directory: health, 404 and 405 envelopes,
//! and the wiring of every role's routes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::config::Config;

async fn call(app: &axum::Router, method: &str, path: &str, body: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| panic!("request: {e}"));
    platform::testing::send(app, request).await
}

#[tokio::test]
async fn health_and_the_404_and_405_envelopes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let config = Config {
        listen: ([127, 0, 0, 1], 0).into(),
        data_dir: dir.path().to_path_buf(),
        shard_count: 2,
        bcrypt_cost: 4,
        jwt_secret: None,
        token_ttl: Duration::from_secs(60),
    };
    let roles = crate::wiring::start(&config)
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    let app = crate::app(&roles);
    let ok = (StatusCode::OK, r#"{"success":true,"data":null}"#.to_owned());
    assert_eq!(call(&app, "GET", "/health", "").await, ok);
    let not_found = (
        StatusCode::NOT_FOUND,
        r#"{"success":false,"data":{"error":"not found"}}"#.to_owned(),
    );
    assert_eq!(
        call(&app, "GET", "/authentication/register/", "").await,
        not_found
    );
    let wrong_method = call(&app, "GET", "/authentication/register", "").await;
    assert_eq!(wrong_method.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.1,
        r#"{"success":false,"data":{"error":"method not allowed"}}"#
    );
    assert_eq!(
        call(&app, "POST", "/transaction/getWalletBalance", "{}")
            .await
            .0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(&app, "GET", "/transaction/getWalletBalance", "")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let register = r#"{"user_name":"u","password":"p","name":"n"}"#;
    assert_eq!(
        call(&app, "POST", "/authentication/register", register).await,
        ok
    );
    assert!(
        dir.path().join("jwt-secret").exists(),
        "the generated secret is kept"
    );
}
