//! getStockPrices (best ask, own included, omitted without asks, sorted) and getStockPortfolio
//! (escrow of sold shares, return on cancel, zero omitted, sorted).

use crate::only_stocks;
use serde_json::{Value, json};
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok_null};
use system_tests::names::unique_suffix;
use system_tests::trader::Trader;

#[test]
fn price_is_the_lowest_ask_of_anyone_and_disappears_without_asks() {
    let app = spawn_app();
    let api = app.api();
    let first = Trader::register(&api, "first");
    let second = Trader::register(&api, "second");
    let name = format!("Meta_{}", unique_suffix());
    let stock = first.create_stock(&name);
    let quiet = first.create_stock(&format!("Quiet_{}", unique_suffix()));
    first.add_stock(&stock, 50);
    second.add_stock(&stock, 50);
    first.add_stock(&quiet, 50);
    let stocks = [&stock, &quiet];
    let price =
        |value: Value| json!([{"stock_id": stock, "stock_name": name, "current_price": value}]);

    expect_ok_null(&first.place_sell(&stock, 10, 140));
    assert_eq!(only_stocks(&first.prices(), &stocks), price(json!(140)));
    expect_ok_null(&second.place_sell(&stock, 10, 135.5));
    assert_eq!(
        only_stocks(&first.prices(), &stocks),
        price(json!(135.5)),
        "own asks count too"
    );
    assert_eq!(only_stocks(&second.prices(), &stocks), price(json!(135.5)));
    expect_ok_null(&first.place_sell(&stock, 10, 150));
    assert_eq!(
        only_stocks(&second.prices(), &stocks),
        price(json!(135.5)),
        "the lowest, not the last"
    );

    let cheapest = second.stock_transactions()[0]["stock_tx_id"].clone();
    expect_ok_null(&second.cancel(&cheapest));
    assert_eq!(only_stocks(&second.prices(), &stocks), price(json!(140)));
    for record in first.stock_transactions().as_array().into_iter().flatten() {
        expect_ok_null(&first.cancel(&record["stock_tx_id"]));
    }
    assert_eq!(
        only_stocks(&first.prices(), &stocks),
        json!([]),
        "no resting ask: omitted"
    );
}

#[test]
fn prices_and_portfolio_sort_by_stock_name_descending_bytes() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "sorter");
    let suffix = unique_suffix();
    let created_order = ["Google", "apple", "Apple", "Zeta", "Amazon"];
    let stocks: Vec<(String, Value)> = created_order
        .iter()
        .map(|prefix| {
            let name = format!("{prefix}_{suffix}");
            let id = trader.create_stock(&name);
            (name, id)
        })
        .collect();
    for (index, (_, id)) in stocks.iter().enumerate() {
        trader.add_stock(id, 10 + index as u64);
        expect_ok_null(&trader.place_sell(id, 1, 100 + index as u64));
    }
    let ids: Vec<&Value> = stocks.iter().map(|(_, id)| id).collect();
    let expected_order = ["apple", "Zeta", "Google", "Apple", "Amazon"];
    let expected_index =
        |prefix: &str| created_order.iter().position(|p| *p == prefix).unwrap_or(0);
    let expected_prices: Vec<Value> = expected_order
        .iter()
        .map(|prefix| {
            let index = expected_index(prefix);
            let (name, id) = &stocks[index];
            json!({"stock_id": id, "stock_name": name, "current_price": 100 + index})
        })
        .collect();
    let expected_portfolio: Vec<Value> = expected_order
        .iter()
        .map(|prefix| {
            let index = expected_index(prefix);
            let (name, id) = &stocks[index];
            json!({"stock_id": id, "stock_name": name, "quantity_owned": 9 + index})
        })
        .collect();
    assert_eq!(
        only_stocks(&trader.prices(), &ids),
        Value::Array(expected_prices)
    );
    assert_eq!(
        only_stocks(&trader.portfolio(), &ids),
        Value::Array(expected_portfolio)
    );
}

#[test]
fn sold_shares_leave_the_portfolio_and_come_back_on_cancel() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "holder");
    let name = format!("Oracle_{}", unique_suffix());
    let stock = trader.create_stock(&name);
    trader.add_stock(&stock, 100);
    let holding = |quantity: u64| json!([{"stock_id": stock, "stock_name": name, "quantity_owned": quantity}]);

    expect_ok_null(&trader.place_sell(&stock, 60, 10));
    assert_eq!(trader.portfolio(), holding(40));
    expect_error(&trader.place_sell(&stock, 41, 10), 400);
    assert_eq!(
        trader.portfolio(),
        holding(40),
        "a rejected sell escrows nothing"
    );
    expect_ok_null(&trader.place_sell(&stock, 40, 11));
    assert_eq!(
        trader.portfolio(),
        json!([]),
        "a user who sold everything sees []"
    );
    expect_error(&trader.place_sell(&stock, 1, 10), 400);

    let records = trader.stock_transactions();
    assert_eq!(
        records.as_array().map(Vec::len),
        Some(2),
        "rejected sells are not recorded"
    );
    expect_ok_null(&trader.cancel(&records[0]["stock_tx_id"]));
    assert_eq!(trader.portfolio(), holding(60));
    expect_ok_null(&trader.cancel(&records[1]["stock_tx_id"]));
    assert_eq!(trader.portfolio(), holding(100));
}
