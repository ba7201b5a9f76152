//! createStock, addStockToUser, addMoneyToWallet.

use serde_json::json;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok};
use system_tests::names::unique;
use system_tests::trader::Trader;

#[test]
fn create_stock_returns_an_id_and_rejects_duplicate_names() {
    let app = spawn_app();
    let api = app.api();
    let first = Trader::register(&api, "creator");
    let second = Trader::register(&api, "other");
    let name = unique("Google");
    let stock = first.create_stock(&name);
    let duplicate = json!({"stock_name": name});
    expect_error(&first.post("/setup/createStock", &duplicate), 400);
    expect_error(&second.post("/setup/createStock", &duplicate), 400);
    let another = second.create_stock(&unique("Apple"));
    assert_ne!(stock, another, "any authenticated user may create a stock");
    for body in [
        json!({}),
        json!({"stock_name": ""}),
        json!({"stock_name": null}),
        json!({"stock_name": 5}),
    ] {
        expect_error(&first.post("/setup/createStock", &body), 400);
    }
    assert_eq!(
        crate::only_stocks(&first.prices(), &[&stock, &another]),
        json!([]),
        "a new stock has no price until someone sells"
    );
}

#[test]
fn add_stock_to_user_adds_to_own_holdings_without_a_record() {
    let app = spawn_app();
    let api = app.api();
    let owner = Trader::register(&api, "owner");
    let name = unique("Intel");
    let stock = owner.create_stock(&name);
    assert_eq!(
        owner.portfolio(),
        json!([]),
        "creating a stock gives no shares"
    );
    owner.add_stock(&stock, 100);
    owner.add_stock(&stock, "25");
    assert_eq!(
        owner.portfolio(),
        json!([{"stock_id": stock, "stock_name": name, "quantity_owned": 125}])
    );
    assert_eq!(owner.stock_transactions(), json!([]));
    assert_eq!(owner.wallet_transactions(), json!([]));
    let other = Trader::register(&api, "bystander");
    assert_eq!(other.portfolio(), json!([]));
}

#[test]
fn add_stock_to_user_rejects_bad_input() {
    let app = spawn_app();
    let api = app.api();
    let owner = Trader::register(&api, "owner");
    let stock = owner.create_stock(&unique("Nvidia"));
    let bodies = [
        json!({"stock_id": "no-such-stock", "quantity": 10}),
        json!({"quantity": 10}),
        json!({"stock_id": stock}),
        json!({"stock_id": stock, "quantity": -5}),
        json!({"stock_id": stock, "quantity": 1.5}),
        json!({"stock_id": stock, "quantity": "ten"}),
    ];
    for body in &bodies {
        expect_error(&owner.post("/setup/addStockToUser", body), 400);
    }
    assert_eq!(owner.portfolio(), json!([]));
}

#[test]
fn add_money_accepts_positive_amounts_only() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "saver");
    for amount in [
        json!(0),
        json!(-1),
        json!(-0.01),
        json!("0"),
        json!("-5"),
        json!(0.0),
    ] {
        expect_error(&trader.deposit_reply(amount), 400);
    }
    expect_error(
        &trader.post("/transaction/addMoneyToWallet", &json!({})),
        400,
    );
    assert_eq!(trader.balance(), json!(0));
    trader.deposit(100);
    trader.deposit("50.25");
    trader.deposit(0.75);
    let balance = trader.get("/transaction/getWalletBalance");
    assert_eq!(expect_ok(&balance), json!({"balance": 151}));
    assert!(
        balance.text.contains("151") && !balance.text.contains("151.0"),
        "{}",
        balance.text
    );
    assert_eq!(
        trader.wallet_transactions(),
        json!([]),
        "deposits create no wallet transaction"
    );
}
