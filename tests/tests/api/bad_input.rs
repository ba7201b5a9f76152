//! Bad input of any kind gets an error envelope (400, or 413 for an oversized body) and changes
//! nothing.

use reqwest::Method;
use serde_json::Value;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok_null};
use system_tests::ledger::{AccountView, read_account};
use system_tests::names::unique;
use system_tests::trader::Trader;

struct Fixture {
    seller: Trader,
    buyer: Trader,
    stock: Value,
}

impl Fixture {
    fn snapshot(&self) -> (AccountView, AccountView, Value) {
        (
            read_account(&self.seller),
            read_account(&self.buyer),
            crate::only_stocks(&self.buyer.prices(), &[&self.stock]),
        )
    }
}

/// A seller with 100 shares (10 resting at 5) and a buyer with 1,000 in cash.
fn fixture(app: &system_tests::app::TestApp) -> Fixture {
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Edge"));
    seller.add_stock(&stock, 100);
    expect_ok_null(&seller.place_sell(&stock, 10, 5));
    buyer.deposit(1_000);
    Fixture {
        seller,
        buyer,
        stock,
    }
}

/// Order bodies with `STOCK` standing for the stock id (quoted).
const BAD_ORDERS: &[&str] = &[
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": "#,
    r#"[]"#,
    r#""sell""#,
    r#"null"#,
    r#""#,
    r#"{"stock_id": STOCK, "is_buy": "no", "order_type": "LIMIT", "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": 0, "order_type": "LIMIT", "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMITED", "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": 1, "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": true, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": [5], "price": 6}"#,
    r#"{"stock_id": {}, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 6}"#,
    r#"{"stock_id": "no-such-stock", "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 6}"#,
    r#"{"is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "order_type": "LIMIT", "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "quantity": 5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": null}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 0, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": -1, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 1.5, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 0}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": -6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 6.001}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": "6.001"}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 6e0}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5e0, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": "5e0", "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": "ten", "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": "", "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": "NaN"}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": "Infinity"}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": "-inf"}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": "0x10"}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 18446744073709551616, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 100000000000000000000000000000, "price": 6}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 5, "price": 100000000000000000000000000000}"#,
    r#"{"stock_id": STOCK, "is_buy": true, "order_type": "MARKET", "quantity": 18446744073709551616}"#,
    r#"{"stock_id": STOCK, "is_buy": true, "order_type": "MARKET", "quantity": 0}"#,
    r#"{"stock_id": STOCK, "is_buy": true, "order_type": "MARKET", "quantity": "NaN"}"#,
    r#"{"stock_id": STOCK, "is_buy": false, "order_type": "LIMIT", "quantity": 1000, "price": 6}"#,
];

const BAD_AMOUNTS: &[&str] = &[
    r#"{"amount": "#,
    r#"{"amount": "NaN"}"#,
    r#"{"amount": "Infinity"}"#,
    r#"{"amount": "ten"}"#,
    r#"{"amount": ""}"#,
    r#"{"amount": true}"#,
    r#"{"amount": [10]}"#,
    r#"{"amount": null}"#,
    r#"{"amount": 1e3}"#,
    r#"{"amount": "1e3"}"#,
    r#"{"amount": 10.001}"#,
    r#"{"amount": "10.001"}"#,
    r#"{"amount": 100000000000000000000000000000}"#,
    r#"{"amount": "100000000000000000000000000000"}"#,
    r#"{"amount": -10}"#,
    r#"not json"#,
];

#[test]
fn bad_orders_are_400_and_change_nothing() {
    let app = spawn_app();
    let market = fixture(&app);
    let before = market.snapshot();
    let stock_json = market.stock.to_string();
    for template in BAD_ORDERS {
        let body = template.replace("STOCK", &stock_json);
        for trader in [&market.seller, &market.buyer] {
            expect_error(&trader.post_raw("/engine/placeStockOrder", &body), 400);
        }
    }
    assert_eq!(market.snapshot(), before);
}

#[test]
fn bad_deposits_are_400_and_change_nothing() {
    let app = spawn_app();
    let market = fixture(&app);
    let before = market.snapshot();
    for body in BAD_AMOUNTS {
        expect_error(
            &market.buyer.post_raw("/transaction/addMoneyToWallet", body),
            400,
        );
    }
    assert_eq!(market.snapshot(), before);
}

#[test]
fn bad_setup_and_cancel_bodies_are_400() {
    let app = spawn_app();
    let market = fixture(&app);
    let before = market.snapshot();
    let seller = &market.seller;
    for path in [
        "/setup/createStock",
        "/setup/addStockToUser",
        "/engine/cancelStockTransaction",
    ] {
        for body in [
            "",
            "{",
            "[1,2]",
            "42",
            r#"{"stock_name": {"x": 1}, "stock_id": [], "quantity": "x", "stock_tx_id": {}}"#,
        ] {
            expect_error(&seller.post_raw(path, body), 400);
        }
    }
    for body in ["", "{", r#"{"user_name": 5, "password": [], "name": {}}"#] {
        expect_error(
            &seller.api().post_raw(
                "/authentication/register",
                system_tests::http::Auth::None,
                body.into(),
            ),
            400,
        );
        expect_error(
            &seller.api().post_raw(
                "/authentication/login",
                system_tests::http::Auth::None,
                body.into(),
            ),
            400,
        );
    }
    assert_eq!(market.snapshot(), before);
}

#[test]
fn an_oversized_body_is_413_and_changes_nothing() {
    let app = spawn_app();
    let market = fixture(&app);
    let before = market.snapshot();
    let padding = "x".repeat(3 * 1024 * 1024);
    let body = format!(r#"{{"amount": 10, "padding": "{padding}"}}"#);
    let reply = market
        .buyer
        .api()
        .try_request(
            Method::POST,
            "/transaction/addMoneyToWallet",
            market.buyer.auth(),
            Some(body),
        )
        .unwrap_or_else(|error| {
            panic!("the server must answer 413, not drop the request: {error}")
        });
    expect_error(&reply, 413);
    assert_eq!(market.snapshot(), before);
}
