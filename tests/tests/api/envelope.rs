//! Routing and the envelope: 404 and 405 in the error envelope, exact paths, GET bodies ignored.

use reqwest::Method;
use serde_json::json;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok};
use system_tests::http::Auth;
use system_tests::trader::Trader;

#[test]
fn health_answers_200() {
    let app = spawn_app();
    let reply = app.api().get("/health", Auth::None);
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[test]
fn unknown_routes_are_404_in_the_envelope() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "ivan");
    let paths = [
        "/nope",
        "/transaction/getWalletBalance/",
        "/Transaction/getWalletBalance",
        "/transaction/getwalletbalance",
        "/api/transaction/getWalletBalance",
    ];
    for path in paths {
        expect_error(&api.get(path, trader.auth()), 404);
    }
    expect_error(
        &api.post("/authentication/register/", Auth::None, &json!({})),
        404,
    );
}

#[test]
fn wrong_methods_are_405_in_the_envelope() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "judy");
    let cases = [
        (Method::GET, "/authentication/register"),
        (Method::GET, "/authentication/login"),
        (Method::GET, "/engine/placeStockOrder"),
        (Method::POST, "/transaction/getWalletBalance"),
        (Method::DELETE, "/transaction/getStockPrices"),
    ];
    for (method, path) in cases {
        let reply = api
            .try_request(method.clone(), path, trader.auth(), None)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        expect_error(&reply, 405);
    }
}

#[test]
fn get_ignores_a_json_content_type_and_any_body() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "ken");
    let with_garbage = api
        .try_request(
            Method::GET,
            "/transaction/getWalletBalance",
            trader.auth(),
            Some("{not json".into()),
        )
        .unwrap_or_else(|error| panic!("GET with a body: {error}"));
    assert_eq!(expect_ok(&with_garbage), json!({"balance": 0}));
    let without_body = api.get("/transaction/getStockTransactions", trader.auth());
    assert_eq!(expect_ok(&without_body), json!([]));
}
