//! The course market buy: all or nothing, own asks skipped, price-time priority, maker price.

use crate::course_flow::{child_record, sell_record, wallet_record};
use crate::{only_stocks, redacted};
use serde_json::{Value, json};
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok_null};
use system_tests::ledger::{AccountView, read_account};
use system_tests::names::unique;
use system_tests::trader::Trader;

struct Market {
    seller: Trader,
    buyer: Trader,
    stock: Value,
}

/// A seller resting 10 shares at 100, and a funded buyer who also owns 5 shares.
fn market_with_one_ask(buyer_cash: u64) -> (system_tests::app::TestApp, Market) {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Netflix"));
    seller.add_stock(&stock, 10);
    buyer.add_stock(&stock, 5);
    expect_ok_null(&seller.place_sell(&stock, 10, 100));
    buyer.deposit(buyer_cash);
    (
        app,
        Market {
            seller,
            buyer,
            stock,
        },
    )
}

fn snapshot(market: &Market) -> (AccountView, AccountView, Value) {
    (
        read_account(&market.seller),
        read_account(&market.buyer),
        only_stocks(&market.buyer.prices(), &[&market.stock]),
    )
}

#[test]
fn not_enough_shares_is_400_and_records_nothing() {
    let (_app, market) = market_with_one_ask(5_000);
    let before = snapshot(&market);
    expect_error(&market.buyer.place_market_buy(&market.stock, 11), 400);
    assert_eq!(snapshot(&market), before);
    assert_eq!(market.buyer.stock_transactions(), json!([]));
}

#[test]
fn own_asks_are_skipped_and_stay_in_the_book() {
    let (_app, market) = market_with_one_ask(5_000);
    let (buyer, stock) = (&market.buyer, &market.stock);
    expect_ok_null(&buyer.place_sell(stock, 5, 90));
    let own_ask = buyer.stock_transactions()[0]["stock_tx_id"].clone();
    let before = snapshot(&market);
    expect_error(&buyer.place_market_buy(stock, 12), 400);
    assert_eq!(
        snapshot(&market),
        before,
        "own shares do not count towards availability"
    );

    expect_ok_null(&buyer.place_market_buy(stock, 10));
    assert_eq!(
        buyer.balance(),
        json!(4_000),
        "paid the other seller's 100, not its own 90"
    );
    let records = buyer.stock_transactions();
    assert_eq!(records[0]["stock_tx_id"], own_ask);
    assert_eq!(
        records[0]["order_status"], "IN_PROGRESS",
        "the own ask stays untouched"
    );
    assert_eq!(records[1]["stock_price"], json!(100));
    let prices = only_stocks(&buyer.prices(), &[stock]);
    assert_eq!(
        prices[0]["current_price"],
        json!(90),
        "the own ask is still the best ask"
    );
}

#[test]
fn too_expensive_is_400_and_records_nothing() {
    let (_app, market) = market_with_one_ask(999);
    let before = snapshot(&market);
    expect_error(&market.buyer.place_market_buy(&market.stock, 10), 400);
    assert_eq!(snapshot(&market), before);
    market.buyer.deposit(1);
    expect_ok_null(&market.buyer.place_market_buy(&market.stock, 10));
    assert_eq!(
        market.buyer.balance(),
        json!(0),
        "exactly the balance is affordable"
    );
}

#[test]
fn market_with_a_numeric_price_is_400_and_absent_price_is_fine() {
    let (_app, market) = market_with_one_ask(5_000);
    let (buyer, stock) = (&market.buyer, &market.stock);
    let path = "/engine/placeStockOrder";
    let before = snapshot(&market);
    for price in [json!(100), json!("100"), json!(0)] {
        let body = json!({"stock_id": stock, "is_buy": true, "order_type": "MARKET", "quantity": 1, "price": price});
        expect_error(&buyer.post(path, &body), 400);
    }
    assert_eq!(snapshot(&market), before);
    let body = json!({"stock_id": stock, "is_buy": true, "order_type": "MARKET", "quantity": 2});
    expect_ok_null(&buyer.post(path, &body));
    assert_eq!(buyer.balance(), json!(4_800));
}

#[test]
fn best_price_first_then_oldest_and_trades_print_at_the_maker_price() {
    let app = spawn_app();
    let api = app.api();
    let early = Trader::register(&api, "early");
    let late = Trader::register(&api, "late");
    let cheap = Trader::register(&api, "cheap");
    let buyer = Trader::register(&api, "buyer");
    let stock = early.create_stock(&unique("Adobe"));
    for seller in [&early, &late, &cheap] {
        seller.add_stock(&stock, 10);
    }
    expect_ok_null(&early.place_sell(&stock, 10, 20));
    expect_ok_null(&late.place_sell(&stock, 10, 20));
    expect_ok_null(&cheap.place_sell(&stock, 10, 19));
    buyer.deposit(1_000);
    expect_ok_null(&buyer.place_market_buy(&stock, 15));
    assert_eq!(cheap.balance(), json!(190), "the best price fills first");
    assert_eq!(
        early.balance(),
        json!(100),
        "then the oldest order at the next price"
    );
    assert_eq!(
        late.balance(),
        json!(0),
        "the younger order at the same price waits"
    );
    assert_eq!(buyer.balance(), json!(710));

    let records = buyer.stock_transactions();
    let wallet = buyer.wallet_transactions();
    let order = records[0]["stock_tx_id"].clone();
    let (first, second) = (
        records[1]["stock_tx_id"].clone(),
        records[2]["stock_tx_id"].clone(),
    );
    let (first_tx, second_tx) = (
        wallet[0]["wallet_tx_id"].clone(),
        wallet[1]["wallet_tx_id"].clone(),
    );
    let mut parent = sell_record(&order, &stock, "COMPLETED", 19.33, 15);
    parent["is_buy"] = json!(true);
    parent["order_type"] = json!("MARKET");
    assert_eq!(
        redacted(&records),
        json!([
            parent,
            child_record(&first, &order, &stock, &first_tx, true, 19, 10),
            child_record(&second, &order, &stock, &second_tx, true, 20, 5),
        ]),
        "a sweep: one child per fill, parent price = VWAP 290/15 rounded to the tick"
    );
    assert_eq!(
        redacted(&wallet),
        json!([
            wallet_record(&first_tx, &first, true, 190),
            wallet_record(&second_tx, &second, true, 100)
        ])
    );
}
