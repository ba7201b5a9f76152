//! The portfolio routes over the cache: an outage of Redis is a 503 in the envelope.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{Harness, USER, ok};
use crate::domain::ports::PortfolioStore;
use crate::http::{PortfolioState, router};

const UNAVAILABLE: &str = r#"{"success":false,"data":{"error":"service temporarily unavailable"}}"#;

fn request(method: &str, path: &str, token: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("token", token)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| panic!("request: {e}"))
}

#[tokio::test]
async fn wallet_routes_answer_503_while_redis_is_down_and_recover() {
    let mut h = Harness::start().await;
    let (authenticator, token) = platform::testing::signed_in(b"s", USER);
    let app = router(PortfolioState {
        store: Arc::clone(&h.cache) as Arc<dyn PortfolioStore>,
        authenticator,
    });
    ok(h.cache.deposit(USER, 100).await);
    let balance = || request("GET", "/transaction/getWalletBalance", &token, "");
    let deposit = || {
        request(
            "POST",
            "/transaction/addMoneyToWallet",
            &token,
            r#"{"amount":5}"#,
        )
    };

    h.redis.stop();
    assert_eq!(
        platform::testing::send(&app, balance()).await,
        (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE.to_owned())
    );
    assert_eq!(
        platform::testing::send(&app, deposit()).await,
        (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE.to_owned())
    );
    assert_eq!(
        h.true_balance(USER).await,
        100,
        "the refused deposit was not applied"
    );

    h.redis.restart();
    assert_eq!(
        platform::testing::send(&app, deposit()).await.0,
        StatusCode::OK
    );
    assert_eq!(
        platform::testing::send(&app, balance()).await,
        (
            StatusCode::OK,
            r#"{"success":true,"data":{"balance":6}}"#.to_owned()
        )
    );
}
