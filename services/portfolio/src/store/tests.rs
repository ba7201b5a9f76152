//! Settlement tests: escrow, fills, record rules, exactly-once application.

use contracts::{
    CommandResult, EndReason, Fill, OrderEnded, OrderType, PlaceOrder, SelfTrade, ShardCommand,
    ShardOutcome, Side, TimeInForce, TradeId,
};

use super::test_store;
use crate::domain::ports::{EscrowRequest, PortfolioStore};
use crate::domain::records::OrderStatus;

const SELLER: u64 = 1;
const BUYER: u64 = 2;

fn place(
    order_ref: u64,
    user_id: u64,
    side: Side,
    order_type: OrderType,
    quantity: u64,
) -> PlaceOrder {
    PlaceOrder {
        order_ref,
        user_id,
        stock_id: 1,
        side,
        order_type,
        quantity,
        time_in_force: if side == Side::Buy {
            TimeInForce::Fok
        } else {
            TimeInForce::Gtc
        },
        post_only: false,
        self_trade: SelfTrade::Skip,
    }
}

fn outcome(
    sequence: u64,
    place: PlaceOrder,
    fills: Vec<Fill>,
    ended: Vec<OrderEnded>,
) -> ShardOutcome {
    ShardOutcome {
        version: 1,
        shard: 0,
        sequence,
        timestamp_ns: sequence,
        command: ShardCommand::Place(place),
        result: CommandResult::Accepted,
        fills,
        ended,
    }
}

fn fill(sequence: u64, buyer_ref: u64, seller_ref: u64, price_cents: u64, quantity: u64) -> Fill {
    Fill {
        trade_id: TradeId {
            stock_id: 1,
            sequence,
        },
        price_cents,
        quantity,
        buyer_ref,
        buyer_user: BUYER,
        seller_ref,
        seller_user: SELLER,
        taker_side: Side::Buy,
    }
}

fn ok<T>(decision: crate::domain::ports::Decision<T>) -> T {
    match decision {
        Ok(Ok(value)) => value,
        other => panic!("expected success, got {:?}", other.map(|r| r.err())),
    }
}

#[tokio::test]
async fn a_partial_fill_settles_once_with_children_and_wallet_txs() {
    let store = test_store();
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 10).await);
    ok(store.deposit(BUYER, 10_000).await);
    let sell_request = EscrowRequest {
        user_id: SELLER,
        stock_id: 1,
        side: Side::Sell,
        quantity: 10,
        limit_price_cents: Some(500),
        client_order_id: None,
    };
    let sell = ok(store.reserve(sell_request).await);
    let sell_place = place(
        sell.order_ref,
        SELLER,
        Side::Sell,
        OrderType::Limit { price_cents: 500 },
        10,
    );
    let buy_request = EscrowRequest {
        user_id: BUYER,
        stock_id: 1,
        side: Side::Buy,
        quantity: 4,
        limit_price_cents: None,
        client_order_id: None,
    };
    let buy = ok(store.reserve(buy_request).await);
    assert_eq!(
        buy.cash_cents, 10_000,
        "a market buy escrows all available cash as its cap"
    );
    let buy_place = place(
        buy.order_ref,
        BUYER,
        Side::Buy,
        OrderType::Market {
            quote_cap_cents: Some(10_000),
        },
        4,
    );
    let buy_end = OrderEnded {
        order_ref: buy.order_ref,
        user_id: BUYER,
        reason: EndReason::Filled,
        filled: 4,
        remaining: 0,
    };
    let outcomes = vec![
        outcome(1, sell_place, vec![], vec![]),
        outcome(
            2,
            buy_place,
            vec![fill(1, buy.order_ref, sell.order_ref, 500, 4)],
            vec![buy_end],
        ),
    ];
    store
        .settle(outcomes.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .settle(outcomes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(store.balance(BUYER).await.ok(), Some(8_000));
    assert_eq!(store.balance(SELLER).await.ok(), Some(2_000));
    let holdings = store.holdings(BUYER).await.unwrap_or_default();
    assert_eq!(
        holdings.iter().map(|h| h.quantity).collect::<Vec<_>>(),
        vec![4]
    );
    assert!(
        store.holdings(SELLER).await.unwrap_or_default().is_empty(),
        "escrowed shares are not listed"
    );

    let seller_txs = store.stock_txs(SELLER).await.unwrap_or_default();
    assert_eq!(seller_txs.len(), 2);
    assert_eq!(
        (seller_txs[0].status, seller_txs[0].wallet_tx_id),
        (OrderStatus::PartiallyComplete, None)
    );
    assert_eq!(seller_txs[1].parent_stock_tx_id, Some(sell.order_ref));
    let buyer_txs = store.stock_txs(BUYER).await.unwrap_or_default();
    assert_eq!(buyer_txs.len(), 1);
    assert_eq!(
        (buyer_txs[0].status, buyer_txs[0].price_cents),
        (OrderStatus::Completed, Some(500))
    );
    let buyer_wallet = store.wallet_txs(BUYER).await.unwrap_or_default();
    assert_eq!(buyer_wallet.len(), 1, "settled exactly once");
    assert_eq!(
        (
            buyer_wallet[0].is_debit,
            buyer_wallet[0].amount_cents,
            buyer_wallet[0].stock_tx_id
        ),
        (true, 2_000, buy.order_ref)
    );
}

#[tokio::test]
async fn a_killed_market_buy_leaves_no_record_and_releases_its_cash() {
    let store = test_store();
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.deposit(BUYER, 700).await);
    let request = EscrowRequest {
        user_id: BUYER,
        stock_id: 1,
        side: Side::Buy,
        quantity: 4,
        limit_price_cents: None,
        client_order_id: None,
    };
    let buy = ok(store.reserve(request).await);
    assert_eq!(store.balance(BUYER).await.ok(), Some(0));
    let place = place(
        buy.order_ref,
        BUYER,
        Side::Buy,
        OrderType::Market {
            quote_cap_cents: Some(700),
        },
        4,
    );
    let killed = OrderEnded {
        order_ref: buy.order_ref,
        user_id: BUYER,
        reason: EndReason::Expired,
        filled: 0,
        remaining: 4,
    };
    store
        .settle(vec![outcome(1, place, vec![], vec![killed])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.balance(BUYER).await.ok(), Some(700));
    assert!(store.stock_txs(BUYER).await.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn orphaned_escrow_is_released_and_overselling_is_refused() {
    let store = test_store();
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 3).await);
    let too_many = EscrowRequest {
        user_id: SELLER,
        stock_id: 1,
        side: Side::Sell,
        quantity: 4,
        limit_price_cents: Some(1),
        client_order_id: None,
    };
    assert!(matches!(store.reserve(too_many).await, Ok(Err(_))));
    let fine = EscrowRequest {
        quantity: 3,
        ..too_many
    };
    ok(store.reserve(fine).await);
    assert!(store.holdings(SELLER).await.unwrap_or_default().is_empty());
    assert_eq!(store.release_orphans().await.ok(), Some(1));
    assert_eq!(
        store.holdings(SELLER).await.unwrap_or_default()[0].quantity,
        3
    );
}

#[tokio::test]
async fn a_reservation_lost_in_a_crash_is_rebuilt_from_the_outcome() {
    let store = test_store();
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 10).await);
    let lost_ref = 40;
    let sell = place(
        lost_ref,
        SELLER,
        Side::Sell,
        OrderType::Limit { price_cents: 500 },
        6,
    );
    store
        .settle(vec![outcome(1, sell, vec![], vec![])])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.holdings(SELLER).await.unwrap_or_default()[0].quantity,
        4,
        "6 shares escrowed again"
    );
    assert_eq!(
        store
            .stock_tx(lost_ref)
            .await
            .ok()
            .flatten()
            .map(|tx| tx.status),
        Some(OrderStatus::InProgress)
    );
    let next = EscrowRequest {
        user_id: SELLER,
        stock_id: 1,
        side: Side::Sell,
        quantity: 1,
        limit_price_cents: Some(1),
        client_order_id: None,
    };
    assert!(
        ok(store.reserve(next).await).order_ref > lost_ref,
        "ids never collide with the lost one"
    );
}
