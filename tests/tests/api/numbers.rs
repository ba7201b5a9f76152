//! Numbers: 64-bit quantities, numeric strings, decimals, ids sent back as numbers.

use crate::only_stocks;
use serde_json::{Value, json};
use system_tests::app::spawn_app;
use system_tests::checks::{expect_ok, expect_ok_null};
use system_tests::names::unique;
use system_tests::trader::Trader;

/// The course's largest quantity.
const HUGE_QUANTITY: u64 = 15_509_763_000;

#[test]
fn quantities_are_64_bit() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "whale");
    let buyer = Trader::register(&api, "shark");
    let name = unique("Penny");
    let stock = seller.create_stock(&name);
    seller.add_stock(&stock, HUGE_QUANTITY);
    let portfolio = seller.get("/transaction/getStockPortfolio");
    assert!(portfolio.text.contains("15509763000"), "{}", portfolio.text);
    expect_ok_null(&seller.place_sell(&stock, HUGE_QUANTITY, 0.01));
    assert_eq!(
        seller.stock_transactions()[0]["quantity"],
        json!(HUGE_QUANTITY)
    );
    buyer.deposit(155_097_630);
    expect_ok_null(&buyer.place_market_buy(&stock, HUGE_QUANTITY));
    assert_eq!(buyer.balance(), json!(0));
    assert_eq!(seller.balance(), json!(155_097_630));
    let holdings = buyer.get("/transaction/getStockPortfolio");
    assert_eq!(
        expect_ok(&holdings),
        json!([{"stock_id": stock, "stock_name": name, "quantity_owned": HUGE_QUANTITY}])
    );
    assert_eq!(buyer.wallet_transactions()[0]["amount"], json!(155_097_630));
}

#[test]
fn numeric_strings_are_accepted_everywhere_numbers_are() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "strings");
    let buyer = Trader::register(&api, "numbers");
    let stock = seller.create_stock(&unique("Strings"));
    seller.add_stock(&stock, "20");
    expect_ok_null(&seller.place_sell(&stock, "20", "7.5"));
    buyer.deposit("100.5");
    expect_ok_null(&buyer.place_market_buy(&stock, "4"));
    assert_eq!(buyer.balance(), json!(70.5));
    let record = &seller.stock_transactions()[0];
    assert_eq!(
        record["stock_price"],
        json!(7.5),
        "emitted as a JSON number, not a string"
    );
    assert_eq!(record["quantity"], json!(20));
}

#[test]
fn ids_are_strings_and_numeric_ids_are_accepted_as_numbers() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "ids");
    let stock = trader.create_stock(&unique("Ids"));
    assert!(stock.is_string(), "stock_id must be a JSON string: {stock}");
    let as_number: Option<Value> = stock
        .as_str()
        .and_then(|text| text.parse::<u64>().ok())
        .map(Value::from);
    let Some(number) = as_number else {
        // Ids are not all digits here, so a JSON number cannot name one; strings must work.
        trader.add_stock(&stock, 3);
        assert_eq!(
            only_stocks(&trader.portfolio(), &[&stock])[0]["quantity_owned"],
            json!(3)
        );
        return;
    };
    trader.add_stock(&number, 3);
    expect_ok_null(&trader.place_sell(&number, 1, 2));
    let order = trader.stock_transactions()[0]["stock_tx_id"].clone();
    assert!(order.is_string());
    let order_number: Value = order
        .as_str()
        .and_then(|text| text.parse::<u64>().ok())
        .map_or(order.clone(), Value::from);
    expect_ok_null(&trader.cancel(&order_number));
    assert_eq!(
        only_stocks(&trader.portfolio(), &[&stock])[0]["quantity_owned"],
        json!(3)
    );
}
