//! Handler tests with an in-memory users store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use platform::clock::SystemClock;
use platform::identity::Authenticator;
use serde_json::{Value, json};

use crate::config::AuthConfig;
use crate::domain::ports::{NameTaken, StoredUser, UserStore};
use crate::domain::service::AuthService;
use crate::domain::user::{DisplayName, UserName};

#[derive(Default)]
struct FakeUsers(Mutex<BTreeMap<String, StoredUser>>);

#[async_trait]
impl UserStore for FakeUsers {
    async fn insert(
        &self,
        name: &UserName,
        _: &DisplayName,
        hash: String,
    ) -> anyhow::Result<Result<u64, NameTaken>> {
        let mut users = self.0.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        if users.contains_key(name.as_str()) {
            return Ok(Err(NameTaken));
        }
        let user_id = u64::try_from(users.len())? + 1;
        users.insert(
            name.as_str().to_owned(),
            StoredUser {
                user_id,
                password_hash: hash,
            },
        );
        Ok(Ok(user_id))
    }

    async fn find_by_name(&self, name: &UserName) -> anyhow::Result<Option<StoredUser>> {
        let users = self.0.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(users.get(name.as_str()).cloned())
    }
}

fn app() -> axum::Router {
    let config = AuthConfig {
        jwt_secret: b"s".to_vec(),
        bcrypt_cost: 4,
        token_ttl: Duration::from_secs(60),
    };
    let authenticator = Authenticator::new(b"s", Arc::new(platform::testing::EveryoneKnown));
    let service = AuthService::new(
        &config,
        Arc::new(FakeUsers::default()),
        authenticator,
        Arc::new(SystemClock),
    );
    super::router(Arc::new(service.unwrap_or_else(|e| panic!("service: {e}"))))
}

async fn post(app: &axum::Router, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| panic!("request: {e}"));
    let (status, text) = platform::testing::send(app, request).await;
    (
        status,
        serde_json::from_slice(text.as_bytes()).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn register_then_duplicate_is_400() {
    let app = app();
    let body = r#"{"user_name":"VanguardETF","password":"Vang@123","name":"Vanguard Corp."}"#;
    assert_eq!(
        post(&app, "/authentication/register", body).await,
        (StatusCode::OK, json!({"success": true, "data": null}))
    );
    let (status, value) = post(&app, "/authentication/register", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(value["success"], json!(false));
}

#[tokio::test]
async fn missing_fields_and_bad_json_are_400() {
    let app = app();
    for body in [
        r#"{"user_name":"a","password":"b"}"#,
        r#"{"user_name":"","password":"b","name":"c"}"#,
        "{",
        r#"{"user_name":5,"password":"b","name":"c"}"#,
        "",
    ] {
        let (status, value) = post(&app, "/authentication/register", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(value["data"]["error"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn login_failures_look_the_same() {
    let app = app();
    post(
        &app,
        "/authentication/register",
        r#"{"user_name":"u","password":"p","name":"n"}"#,
    )
    .await;
    let wrong = post(
        &app,
        "/authentication/login",
        r#"{"user_name":"u","password":"x"}"#,
    )
    .await;
    let unknown = post(
        &app,
        "/authentication/login",
        r#"{"user_name":"nobody","password":"x"}"#,
    )
    .await;
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST);
    assert_eq!(wrong, unknown);
    let (status, value) = post(
        &app,
        "/authentication/login",
        r#"{"user_name":"u","password":"p"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(value["data"]["token"].is_string());
}
