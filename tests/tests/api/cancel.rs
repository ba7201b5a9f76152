//! cancelStockTransaction: only the caller's own resting order; everything else is 400.

use serde_json::json;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok_null};
use system_tests::ledger::read_account;
use system_tests::names::unique;
use system_tests::trader::Trader;

#[test]
fn cancel_rules() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Cisco"));
    seller.add_stock(&stock, 100);
    expect_ok_null(&seller.place_sell(&stock, 40, 5));
    expect_ok_null(&seller.place_sell(&stock, 30, 6));
    buyer.deposit(1_000);
    expect_ok_null(&buyer.place_market_buy(&stock, 40));
    let records = seller.stock_transactions();
    let (completed, resting) = (
        records[0]["stock_tx_id"].clone(),
        records[1]["stock_tx_id"].clone(),
    );
    assert_eq!(records[0]["order_status"], "COMPLETED");
    let market_order = buyer.stock_transactions()[0]["stock_tx_id"].clone();

    let seller_before = read_account(&seller);
    let buyer_before = read_account(&buyer);
    expect_error(&buyer.cancel(&resting), 400); // someone else's order
    expect_error(&seller.cancel(&json!("no-such-order")), 400);
    expect_error(&seller.cancel(&json!("")), 400);
    expect_error(
        &seller.post("/engine/cancelStockTransaction", &json!({})),
        400,
    );
    expect_error(
        &seller.post(
            "/engine/cancelStockTransaction",
            &json!({"stock_tx_id": null}),
        ),
        400,
    );
    expect_error(&seller.cancel(&completed), 400); // already COMPLETED
    expect_error(&buyer.cancel(&market_order), 400); // a completed market buy
    assert_eq!(
        read_account(&seller),
        seller_before,
        "failed cancels change nothing"
    );
    assert_eq!(read_account(&buyer), buyer_before);

    expect_ok_null(&seller.cancel(&resting));
    assert_eq!(seller.stock_transactions()[1]["order_status"], "CANCELLED");
    expect_error(&seller.cancel(&resting), 400); // already CANCELLED
}

#[test]
fn a_child_record_cannot_be_cancelled() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Sony"));
    seller.add_stock(&stock, 10);
    expect_ok_null(&seller.place_sell(&stock, 10, 3));
    buyer.deposit(100);
    expect_ok_null(&buyer.place_market_buy(&stock, 4));
    let records = seller.stock_transactions();
    assert_eq!(records[0]["order_status"], "PARTIALLY_COMPLETE");
    let child = records[1]["stock_tx_id"].clone();
    expect_error(&seller.cancel(&child), 400);
    expect_ok_null(&seller.cancel(&records[0]["stock_tx_id"]));
    let records = seller.stock_transactions();
    assert_eq!(records[0]["order_status"], "CANCELLED");
    assert_eq!(
        records[1]["order_status"], "COMPLETED",
        "children stay COMPLETED"
    );
}
