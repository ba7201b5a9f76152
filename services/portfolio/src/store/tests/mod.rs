//! Settlement tests: escrow, fills, record rules, exactly-once application. Every scenario runs
//! against both stores (the embedded one, in memory, and MongoDB on a SecantusDB server started for the test
//! process, one fresh database per test): the two must behave the same.

use std::time::{Duration, SystemTime};

use contracts::{
    CommandResult, EndReason, ExpireOrder, Fill, OrderEnded, OrderType, PlaceOrder, SelfTrade,
    ShardCommand, ShardOutcome, Side, TimeInForce, TradeId,
};

use crate::domain::ports::{EscrowRequest, PendingOrder, PortfolioStore};
use crate::domain::records::OrderStatus;

mod recovery;

pub(crate) const SELLER: u64 = 1;
pub(crate) const BUYER: u64 = 2;

pub(crate) fn place(
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

pub(crate) fn outcome(
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

pub(crate) fn fill(
    sequence: u64,
    buyer_ref: u64,
    seller_ref: u64,
    price_cents: u64,
    quantity: u64,
) -> Fill {
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

/// Runs each scenario once per store: `<scenario>::embedded` and `<scenario>::mongo`; and on a
/// journaled embedded store that is then reopened (from its journal, or from a snapshot and the
/// journal after it), which must rebuild the same state.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn embedded() {
                super::$scenario(&crate::store::test_store()).await;
            }

            #[tokio::test]
            async fn embedded_reopened() {
                let (dir, store) = super::recovery::journaled();
                super::$scenario(&store).await;
                super::recovery::assert_reopens_the_same(dir, store, false).await;
            }

            #[tokio::test]
            async fn embedded_reopened_from_a_snapshot() {
                let (dir, store) = super::recovery::journaled();
                super::$scenario(&store).await;
                super::recovery::assert_reopens_the_same(dir, store, true).await;
            }

            #[tokio::test]
            async fn mongo() {
                let (_server, store) = super::mongo_store().await;
                super::$scenario(&store).await;
            }
        }
    )*};
}

on_both_stores!(
    a_partial_fill_settles_once_with_children_and_wallet_txs,
    a_killed_market_buy_leaves_no_record_and_releases_its_cash,
    orphaned_escrow_is_released_and_overselling_is_refused,
    a_reservation_lost_in_a_crash_is_rebuilt_from_the_outcome,
    pending_reservations_are_listed_by_age_and_an_accepted_expire_releases_one_once,
    a_rejected_expire_and_an_expire_after_the_place_change_nothing,
);

/// A MongoDB store on a fresh database of the test process's SecantusDB server.
pub(crate) async fn mongo_store() -> (
    test_services::mongo::TestMongo,
    crate::store::mongo::MongoPortfolio,
) {
    let server = test_services::mongo::TestMongo::shared();
    let store = crate::store::mongo::MongoPortfolio::connect(&server.url(), server.database_name())
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", server.url()));
    (server, store)
}

pub(crate) fn ok<T>(decision: crate::domain::ports::Decision<T>) -> T {
    match decision {
        Ok(Ok(value)) => value,
        other => panic!("expected success, got {:?}", other.map(|r| r.err())),
    }
}

/// Stock 1 with 10 shares for the seller and 10,000 cents for the buyer; the seller's limit sell
/// of 10 at 500 and the buyer's market buy of 4 are reserved. Returns their two outcomes: the
/// sell rests, the buy fills 4 at 500.
pub(crate) async fn reserve_a_sell_and_a_buy_that_trade(
    store: &dyn PortfolioStore,
) -> Vec<ShardOutcome> {
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
    vec![
        outcome(1, sell_place, vec![], vec![]),
        outcome(
            2,
            buy_place,
            vec![fill(1, buy.order_ref, sell.order_ref, 500, 4)],
            vec![buy_end],
        ),
    ]
}

async fn a_partial_fill_settles_once_with_children_and_wallet_txs(store: &dyn PortfolioStore) {
    let outcomes = reserve_a_sell_and_a_buy_that_trade(store).await;
    let [sell, buy] = [&outcomes[0], &outcomes[1]].map(|outcome| match &outcome.command {
        ShardCommand::Place(place) => *place,
        other => panic!("not a place: {other:?}"),
    });
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

async fn a_killed_market_buy_leaves_no_record_and_releases_its_cash(store: &dyn PortfolioStore) {
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

async fn orphaned_escrow_is_released_and_overselling_is_refused(store: &dyn PortfolioStore) {
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

async fn a_reservation_lost_in_a_crash_is_rebuilt_from_the_outcome(store: &dyn PortfolioStore) {
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

/// The outcome of an expire of `order_ref` (of `user_id`, stock 1): accepted (the shard never
/// sequenced the order) or rejected (it had).
pub(crate) fn expire_outcome(
    sequence: u64,
    order_ref: u64,
    user_id: u64,
    accepted: bool,
) -> ShardOutcome {
    let (result, ended) = if accepted {
        let end = OrderEnded {
            order_ref,
            user_id,
            reason: EndReason::Expired,
            filled: 0,
            remaining: 0,
        };
        (CommandResult::Accepted, vec![end])
    } else {
        let reason = "the order was already sequenced".to_owned();
        (CommandResult::Rejected { reason }, vec![])
    };
    ShardOutcome {
        version: contracts::CONTRACT_VERSION,
        shard: 0,
        sequence,
        timestamp_ns: sequence,
        command: ShardCommand::Expire(ExpireOrder {
            order_ref,
            user_id,
            stock_id: 1,
        }),
        result,
        fills: vec![],
        ended,
    }
}

async fn pending(store: &dyn PortfolioStore, older_than: SystemTime, limit: usize) -> Vec<u64> {
    store
        .pending_reservations(older_than, limit)
        .await
        .unwrap_or_else(|e| panic!("pending reservations: {e}"))
        .iter()
        .map(|p| p.order_ref)
        .collect()
}

async fn pending_reservations_are_listed_by_age_and_an_accepted_expire_releases_one_once(
    store: &dyn PortfolioStore,
) {
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 10).await);
    ok(store.deposit(BUYER, 10_000).await);
    let before = SystemTime::now() - Duration::from_secs(1);
    let buy_request = EscrowRequest {
        user_id: BUYER,
        stock_id: 1,
        side: Side::Buy,
        quantity: 4,
        limit_price_cents: Some(500),
        client_order_id: None,
    };
    let buy = ok(store.reserve(buy_request).await);
    let sell_request = EscrowRequest {
        user_id: SELLER,
        side: Side::Sell,
        quantity: 10,
        ..buy_request
    };
    let sell = ok(store.reserve(sell_request).await);
    assert_eq!(store.balance(BUYER).await.ok(), Some(8_000));

    assert!(
        pending(store, before, 10).await.is_empty(),
        "nothing was reserved a second before"
    );
    let now = SystemTime::now();
    let listed = store
        .pending_reservations(now, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        listed,
        vec![
            PendingOrder {
                order_ref: buy.order_ref,
                user_id: BUYER,
                stock_id: 1
            },
            PendingOrder {
                order_ref: sell.order_ref,
                user_id: SELLER,
                stock_id: 1
            },
        ],
        "oldest first"
    );
    assert_eq!(pending(store, now, 1).await, vec![buy.order_ref], "limited");

    let expired = vec![expire_outcome(1, buy.order_ref, BUYER, true)];
    store
        .settle(expired.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.balance(BUYER).await.ok(),
        Some(10_000),
        "cash is back"
    );
    assert_eq!(store.has_reservation(buy.order_ref).await.ok(), Some(false));
    assert!(store.stock_txs(BUYER).await.unwrap_or_default().is_empty());
    assert_eq!(pending(store, now, 10).await, vec![sell.order_ref]);

    // The same outcome again (a redelivery), and an accepted expire of an order the store does
    // not know (another replica's copy, already released): nothing changes.
    store
        .settle(expired)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .settle(vec![expire_outcome(2, 999, BUYER, true)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.balance(BUYER).await.ok(),
        Some(10_000),
        "released once"
    );
    assert_eq!(store.applied_through(0).await.ok(), Some(2));
    assert!(store.holdings(SELLER).await.unwrap_or_default().is_empty());
}

async fn a_rejected_expire_and_an_expire_after_the_place_change_nothing(
    store: &dyn PortfolioStore,
) {
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 10).await);
    let request = EscrowRequest {
        user_id: SELLER,
        stock_id: 1,
        side: Side::Sell,
        quantity: 6,
        limit_price_cents: Some(500),
        client_order_id: None,
    };
    let sell = ok(store.reserve(request).await);
    // The place was sequenced first (FIFO), the expire behind it is rejected.
    let sell_place = place(
        sell.order_ref,
        SELLER,
        Side::Sell,
        OrderType::Limit { price_cents: 500 },
        6,
    );
    store
        .settle(vec![
            outcome(1, sell_place, vec![], vec![]),
            expire_outcome(2, sell.order_ref, SELLER, false),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let escrowed = |holdings: Vec<crate::domain::ports::Holding>| {
        holdings.iter().map(|h| h.quantity).sum::<u64>()
    };
    assert_eq!(
        escrowed(store.holdings(SELLER).await.unwrap_or_default()),
        4
    );
    assert_eq!(store.has_reservation(sell.order_ref).await.ok(), Some(true));
    assert!(pending(store, SystemTime::now(), 10).await.is_empty());
    // Even an accepted expire (impossible from a shard that placed the order) does not release
    // the escrow of a resting order.
    store
        .settle(vec![expire_outcome(3, sell.order_ref, SELLER, true)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        escrowed(store.holdings(SELLER).await.unwrap_or_default()),
        4
    );
    assert_eq!(store.has_reservation(sell.order_ref).await.ok(), Some(true));
    assert_eq!(
        store
            .stock_tx(sell.order_ref)
            .await
            .ok()
            .flatten()
            .map(|tx| tx.status),
        Some(OrderStatus::InProgress)
    );
}
