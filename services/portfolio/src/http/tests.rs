//! Handler tests over the real store (the throwaway in-memory one).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{PortfolioState, router};
use crate::store::test_store;

struct App {
    router: axum::Router,
    token: String,
}

fn app() -> App {
    let (authenticator, token) = platform::testing::signed_in(b"s", 7);
    let router = router(PortfolioState {
        store: Arc::new(test_store()),
        authenticator,
    });
    App { router, token }
}

impl App {
    async fn call(&self, method: &str, path: &str, body: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("token", &self.token)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap_or_else(|e| panic!("request: {e}"));
        platform::testing::send(&self.router, request).await
    }
}

#[tokio::test]
async fn portfolio_sorts_by_name_descending_and_omits_nothing_owned() {
    let app = app();
    for name in ["Apple", "Google", "Zero"] {
        assert_eq!(
            app.call(
                "POST",
                "/setup/createStock",
                &format!(r#"{{"stock_name":"{name}"}}"#)
            )
            .await
            .0,
            StatusCode::OK
        );
    }
    app.call(
        "POST",
        "/setup/addStockToUser",
        r#"{"stock_id":"1","quantity":5}"#,
    )
    .await;
    app.call(
        "POST",
        "/setup/addStockToUser",
        r#"{"stock_id":2,"quantity":"15509763000"}"#,
    )
    .await;
    let (status, body) = app.call("GET", "/transaction/getStockPortfolio", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"success":true,"data":[{"stock_id":"2","stock_name":"Google","quantity_owned":15509763000},{"stock_id":"1","stock_name":"Apple","quantity_owned":5}]}"#
    );
}

#[tokio::test]
async fn duplicate_stock_names_and_unknown_stocks_are_400() {
    let app = app();
    assert_eq!(
        app.call("POST", "/setup/createStock", r#"{"stock_name":"Apple"}"#)
            .await
            .1,
        r#"{"success":true,"data":{"stock_id":"1"}}"#
    );
    assert_eq!(
        app.call("POST", "/setup/createStock", r#"{"stock_name":"Apple"}"#)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.call(
            "POST",
            "/setup/addStockToUser",
            r#"{"stock_id":"9","quantity":1}"#
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.call(
            "POST",
            "/setup/addStockToUser",
            r#"{"stock_id":"1","quantity":1.5}"#
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn deposits_must_be_positive_and_balances_are_json_integers() {
    let app = app();
    for bad in ["0", "-5", "\"ten\"", "1e3", "null", "0.001"] {
        let (status, _) = app
            .call(
                "POST",
                "/transaction/addMoneyToWallet",
                &format!(r#"{{"amount":{bad}}}"#),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    app.call("POST", "/transaction/addMoneyToWallet", r#"{"amount":100}"#)
        .await;
    assert_eq!(
        app.call("GET", "/transaction/getWalletBalance", "").await.1,
        r#"{"success":true,"data":{"balance":100}}"#
    );
    app.call(
        "POST",
        "/transaction/addMoneyToWallet",
        r#"{"amount":"0.5"}"#,
    )
    .await;
    assert_eq!(
        app.call("GET", "/transaction/getWalletBalance", "").await.1,
        r#"{"success":true,"data":{"balance":100.5}}"#
    );
}
