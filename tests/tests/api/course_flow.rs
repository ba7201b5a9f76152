//! The course's two-user flow: a seller with two stocks, a buyer, a market buy that partially
//! fills a sell, child records, wallet transactions, cancel of a partially filled order.

use crate::{only_stocks, redacted};
use serde_json::{Value, json};
use system_tests::app::spawn_app;
use system_tests::checks::{TIME_STAMP, assert_valid_id, expect_error, expect_ok_null};
use system_tests::names::unique;
use system_tests::trader::Trader;

const TS: &str = TIME_STAMP;

#[test]
fn seller_buyer_partial_fill_and_cancel() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "VanguardETF");
    let (google_name, apple_name) = (unique("Google"), unique("Apple"));
    let google = seller.create_stock(&google_name);
    let apple = seller.create_stock(&apple_name);
    assert_valid_id(&google, "stock_id");
    assert_valid_id(&apple, "stock_id");
    assert_ne!(google, apple);
    seller.add_stock(&google, 550);
    seller.add_stock(&apple, 350);
    let stocks = [&google, &apple];
    assert_eq!(
        only_stocks(&seller.portfolio(), &stocks),
        json!([
            {"stock_id": google, "stock_name": google_name, "quantity_owned": 550},
            {"stock_id": apple, "stock_name": apple_name, "quantity_owned": 350},
        ])
    );
    expect_ok_null(&seller.place_sell(&google, 550, 135));
    expect_ok_null(&seller.place_sell(&apple, 350, 140));
    assert_eq!(
        only_stocks(&seller.portfolio(), &stocks),
        json!([]),
        "sold shares are escrowed"
    );
    let prices = json!([
        {"stock_id": google, "stock_name": google_name, "current_price": 135},
        {"stock_id": apple, "stock_name": apple_name, "current_price": 140},
    ]);
    assert_eq!(only_stocks(&seller.prices(), &stocks), prices);

    let seller_records = seller.stock_transactions();
    let google_order = seller_records[0]["stock_tx_id"].clone();
    let apple_order = seller_records[1]["stock_tx_id"].clone();
    assert_valid_id(&google_order, "stock_tx_id");
    assert_eq!(
        redacted(&seller_records),
        json!([
            sell_record(&google_order, &google, "IN_PROGRESS", 135, 550),
            sell_record(&apple_order, &apple, "IN_PROGRESS", 140, 350),
        ])
    );
    assert_eq!(seller.wallet_transactions(), json!([]));

    let buyer = Trader::register(&api, "FinanceGuru");
    buyer.deposit(10_000);
    assert_eq!(buyer.balance(), json!(10_000));
    assert_eq!(
        buyer.wallet_transactions(),
        json!([]),
        "a deposit is no wallet transaction"
    );
    assert_eq!(
        only_stocks(&buyer.prices(), &stocks),
        prices,
        "prices are the same for everyone"
    );
    expect_ok_null(&buyer.place_market_buy(&google, 10));

    assert_eq!(buyer.balance(), json!(8_650));
    assert_eq!(seller.balance(), json!(1_350));
    let buyer_records = buyer.stock_transactions();
    let buy_order = buyer_records[0]["stock_tx_id"].clone();
    let buyer_wallet = buyer.wallet_transactions();
    let buyer_wallet_tx = buyer_wallet[0]["wallet_tx_id"].clone();
    assert_valid_id(&buyer_wallet_tx, "wallet_tx_id");
    assert_eq!(
        redacted(&buyer_records),
        json!([{
            "stock_tx_id": buy_order, "parent_stock_tx_id": null, "stock_id": google,
            "wallet_tx_id": buyer_wallet_tx, "order_status": "COMPLETED", "is_buy": true,
            "order_type": "MARKET", "stock_price": 135, "quantity": 10, "time_stamp": TS,
        }]),
        "a market buy filled by one match is one COMPLETED record carrying its wallet tx"
    );
    assert_eq!(
        redacted(&buyer_wallet),
        json!([wallet_record(&buyer_wallet_tx, &buy_order, true, 1_350)])
    );
    assert_eq!(
        only_stocks(&buyer.portfolio(), &stocks),
        json!([{"stock_id": google, "stock_name": google_name, "quantity_owned": 10}])
    );

    let seller_records = seller.stock_transactions();
    let child = seller_records[2]["stock_tx_id"].clone();
    let seller_wallet = seller.wallet_transactions();
    let seller_wallet_tx = seller_wallet[0]["wallet_tx_id"].clone();
    assert_ne!(seller_wallet_tx, buyer_wallet_tx);
    assert_ne!(child, google_order);
    assert_eq!(
        redacted(&seller_records),
        json!([
            sell_record(&google_order, &google, "PARTIALLY_COMPLETE", 135, 550),
            sell_record(&apple_order, &apple, "IN_PROGRESS", 140, 350),
            child_record(
                &child,
                &google_order,
                &google,
                &seller_wallet_tx,
                false,
                135,
                10
            ),
        ])
    );
    assert_eq!(
        redacted(&seller_wallet),
        json!([wallet_record(&seller_wallet_tx, &child, false, 1_350)])
    );
    assert_eq!(
        only_stocks(&seller.prices(), &stocks),
        prices,
        "540 shares still rest at 135"
    );

    expect_ok_null(&seller.cancel(&google_order));
    assert_eq!(
        redacted(&seller.stock_transactions()),
        json!([
            sell_record(&google_order, &google, "CANCELLED", 135, 550),
            sell_record(&apple_order, &apple, "IN_PROGRESS", 140, 350),
            child_record(
                &child,
                &google_order,
                &google,
                &seller_wallet_tx,
                false,
                135,
                10
            ),
        ])
    );
    assert_eq!(
        only_stocks(&seller.portfolio(), &stocks),
        json!([{"stock_id": google, "stock_name": google_name, "quantity_owned": 540}]),
        "the unfilled remainder comes back on cancel"
    );
    assert_eq!(
        only_stocks(&seller.prices(), &stocks),
        json!([{"stock_id": apple, "stock_name": apple_name, "current_price": 140}])
    );
    expect_error(&seller.cancel(&google_order), 400);
    assert_eq!(seller.balance(), json!(1_350));
}

#[test]
fn partial_fills_then_completion_by_the_last_fill() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Tesla"));
    seller.add_stock(&stock, 100);
    expect_ok_null(&seller.place_sell(&stock, 100, 10));
    buyer.deposit(1_000);
    expect_ok_null(&buyer.place_market_buy(&stock, 30));
    expect_ok_null(&buyer.place_market_buy(&stock, 70));
    assert_eq!(buyer.balance(), json!(0), "exactly affordable");
    assert_eq!(seller.balance(), json!(1_000));

    let records = seller.stock_transactions();
    let order = records[0]["stock_tx_id"].clone();
    let wallet = seller.wallet_transactions();
    let (first_child, second_child) = (
        records[1]["stock_tx_id"].clone(),
        records[2]["stock_tx_id"].clone(),
    );
    let (first_tx, second_tx) = (
        wallet[0]["wallet_tx_id"].clone(),
        wallet[1]["wallet_tx_id"].clone(),
    );
    assert_eq!(
        redacted(&records),
        json!([
            sell_record(&order, &stock, "COMPLETED", 10, 100),
            child_record(&first_child, &order, &stock, &first_tx, false, 10, 30),
            child_record(&second_child, &order, &stock, &second_tx, false, 10, 70),
        ]),
        "the last fill completes the order, which keeps wallet_tx_id null"
    );
    assert_eq!(
        redacted(&wallet),
        json!([
            wallet_record(&first_tx, &first_child, false, 300),
            wallet_record(&second_tx, &second_child, false, 700),
        ])
    );
    expect_error(&seller.cancel(&order), 400);
    assert_eq!(
        seller.portfolio(),
        json!([]),
        "a user who sold everything sees []"
    );
}

#[test]
fn a_sell_filled_by_one_match_completes_without_children() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Amazon"));
    seller.add_stock(&stock, 25);
    expect_ok_null(&seller.place_sell(&stock, 25, 12.5));
    buyer.deposit(500);
    expect_ok_null(&buyer.place_market_buy(&stock, 25));
    let records = seller.stock_transactions();
    let wallet = seller.wallet_transactions();
    let order = records[0]["stock_tx_id"].clone();
    let wallet_tx = wallet[0]["wallet_tx_id"].clone();
    let mut expected = sell_record(&order, &stock, "COMPLETED", 12.5, 25);
    expected["wallet_tx_id"] = wallet_tx.clone();
    assert_eq!(redacted(&records), json!([expected]));
    assert_eq!(
        redacted(&wallet),
        json!([wallet_record(&wallet_tx, &order, false, 312.5)])
    );
    assert_eq!(buyer.balance(), json!(187.5));
}

/// A course limit sell order record (no parent, no wallet tx).
pub fn sell_record(
    id: &Value,
    stock: &Value,
    status: &str,
    price: impl Into<Value>,
    quantity: u64,
) -> Value {
    json!({
        "stock_tx_id": id, "parent_stock_tx_id": null, "stock_id": stock, "wallet_tx_id": null,
        "order_status": status, "is_buy": false, "order_type": "LIMIT",
        "stock_price": price.into(), "quantity": quantity, "time_stamp": TS,
    })
}

/// A fill record of `parent`.
pub fn child_record(
    id: &Value,
    parent: &Value,
    stock: &Value,
    wallet_tx: &Value,
    is_buy: bool,
    price: impl Into<Value>,
    quantity: u64,
) -> Value {
    let order_type = if is_buy { "MARKET" } else { "LIMIT" };
    json!({
        "stock_tx_id": id, "parent_stock_tx_id": parent, "stock_id": stock,
        "wallet_tx_id": wallet_tx, "order_status": "COMPLETED", "is_buy": is_buy,
        "order_type": order_type, "stock_price": price.into(), "quantity": quantity, "time_stamp": TS,
    })
}

/// A wallet transaction record.
pub fn wallet_record(
    id: &Value,
    stock_tx: &Value,
    is_debit: bool,
    amount: impl Into<Value>,
) -> Value {
    json!({
        "wallet_tx_id": id, "stock_tx_id": stock_tx, "is_debit": is_debit,
        "amount": amount.into(), "time_stamp": TS,
    })
}
