//! Hits, misses, populating, and every kind of write making the next read right.

use contracts::{
    CommandResult, EndReason, Fill, OrderEnded, OrderType, PlaceOrder, SelfTrade, ShardCommand,
    ShardOutcome, Side, TimeInForce, TradeId,
};

use super::{Harness, USER, is_hit, ok};
use crate::cache::redis_side::Lookup;
use crate::domain::ports::{EscrowRequest, Holding, PortfolioStore};

#[tokio::test]
async fn a_miss_reads_the_inner_store_once_and_later_reads_hit() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 12_345).await);
    assert!(matches!(h.cached_balance(USER).await, Lookup::Miss { .. }));

    assert_eq!(h.balance(USER).await, 12_345);
    assert!(is_hit(&h.cached_balance(USER).await, "12345"));
    assert_eq!(h.balance(USER).await, 12_345);
    assert_eq!(h.balance(USER).await, 12_345);
    assert_eq!(h.inner_reads(), 1, "only the miss reaches the inner store");

    assert_eq!(h.balance(USER + 1).await, 0, "an unknown user has nothing");
    assert_eq!(h.inner_reads(), 2);
}

#[tokio::test]
async fn a_write_makes_the_next_read_see_the_new_value() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);
    ok(h.cache.deposit(USER, 50).await);
    assert!(
        matches!(h.cached_balance(USER).await, Lookup::Miss { .. }),
        "the write removed the entry"
    );
    assert_eq!(h.balance(USER).await, 150);

    let apple = ok(h.cache.create_stock("Apple".to_owned()).await);
    assert_eq!(h.cache.holdings(USER).await.ok(), Some(vec![]));
    ok(h.cache.add_shares(USER, apple, 5).await);
    let expected = vec![Holding {
        stock_id: apple,
        stock_name: "Apple".to_owned(),
        quantity: 5,
    }];
    assert_eq!(h.cache.holdings(USER).await.ok(), Some(expected.clone()));
    assert_eq!(h.cache.holdings(USER).await.ok(), Some(expected));
    assert_eq!(h.balance(USER).await, 150, "other entries are rebuilt too");
}

#[tokio::test]
async fn a_refused_write_changes_nothing_and_leaves_no_writer_pending() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    let refused = h
        .cache
        .add_shares(USER, 99, 1)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(refused.is_err(), "unknown stock is refused");
    assert_eq!(h.balance(USER).await, 100);
    assert!(is_hit(&h.cached_balance(USER).await, "100"));
}

const SELLER: u64 = 1;
const BUYER: u64 = 2;

fn place(order_ref: u64, user_id: u64, side: Side, quantity: u64) -> PlaceOrder {
    PlaceOrder {
        order_ref,
        user_id,
        stock_id: 1,
        side,
        order_type: OrderType::Limit { price_cents: 500 },
        quantity,
        time_in_force: TimeInForce::Gtc,
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
        version: contracts::CONTRACT_VERSION,
        shard: 0,
        sequence,
        timestamp_ns: sequence,
        command: ShardCommand::Place(place),
        result: CommandResult::Accepted,
        fills,
        ended,
    }
}

fn limit(user_id: u64, side: Side, quantity: u64) -> EscrowRequest {
    EscrowRequest {
        user_id,
        stock_id: 1,
        side,
        quantity,
        limit_price_cents: Some(500),
        client_order_id: None,
    }
}

/// Reads both users through the cache (warming it) and checks them against the inner store.
async fn assert_cache_agrees(h: &Harness) {
    for user in [SELLER, BUYER] {
        for _ in 0..2 {
            assert_eq!(h.balance(user).await, h.true_balance(user).await);
            let cached = h.cache.holdings(user).await.ok();
            assert_eq!(cached, h.store.holdings(user).await.ok(), "user {user}");
        }
    }
}

#[tokio::test]
async fn escrow_and_a_settled_trade_show_in_both_users_cached_entries() {
    let h = Harness::start().await;
    ok(h.cache.create_stock("Apple".to_owned()).await);
    ok(h.cache.add_shares(SELLER, 1, 10).await);
    ok(h.cache.deposit(BUYER, 10_000).await);
    assert_cache_agrees(&h).await;

    let sell = ok(h.cache.reserve(limit(SELLER, Side::Sell, 10)).await);
    let buy = ok(h.cache.reserve(limit(BUYER, Side::Buy, 4)).await);
    assert_eq!(h.balance(BUYER).await, 8_000, "escrow left the balance");
    assert_eq!(h.cache.holdings(SELLER).await.ok(), Some(vec![]));
    assert_cache_agrees(&h).await;

    let fill = Fill {
        trade_id: TradeId {
            stock_id: 1,
            sequence: 1,
        },
        price_cents: 500,
        quantity: 4,
        buyer_ref: buy.order_ref,
        buyer_user: BUYER,
        seller_ref: sell.order_ref,
        seller_user: SELLER,
        taker_side: Side::Buy,
    };
    let buy_end = OrderEnded {
        order_ref: buy.order_ref,
        user_id: BUYER,
        reason: EndReason::Filled,
        filled: 4,
        remaining: 0,
    };
    let sell_placed = outcome(
        1,
        place(sell.order_ref, SELLER, Side::Sell, 10),
        vec![],
        vec![],
    );
    let buy_filled = outcome(
        2,
        place(buy.order_ref, BUYER, Side::Buy, 4),
        vec![fill],
        vec![buy_end],
    );
    settle(&h, vec![sell_placed.clone()]).await;
    assert_cache_agrees(&h).await;
    // The seller appears in this batch only as the fill's counterparty.
    settle(&h, vec![buy_filled.clone()]).await;
    assert_eq!(h.balance(SELLER).await, 2_000);
    assert_eq!(
        h.cache.holdings(BUYER).await.ok().map(|list| list.len()),
        Some(1)
    );
    assert_cache_agrees(&h).await;

    settle(&h, vec![sell_placed, buy_filled]).await;
    assert_eq!(h.balance(SELLER).await, 2_000, "a replay changes nothing");
    assert_cache_agrees(&h).await;
}

async fn settle(h: &Harness, batch: Vec<ShardOutcome>) {
    h.cache
        .settle(batch)
        .await
        .unwrap_or_else(|e| panic!("settle: {e:#}"));
}

#[tokio::test]
async fn releasing_orphans_invalidates_every_user() {
    let h = Harness::start().await;
    ok(h.cache.create_stock("Apple".to_owned()).await);
    ok(h.cache.deposit(BUYER, 1_000).await);
    ok(h.cache.add_shares(SELLER, 1, 3).await);
    ok(h.cache.reserve(limit(BUYER, Side::Buy, 1)).await);
    ok(h.cache.reserve(limit(SELLER, Side::Sell, 3)).await);
    assert_eq!(h.balance(BUYER).await, 500);
    assert_eq!(h.cache.holdings(SELLER).await.ok(), Some(vec![]));

    let released = h
        .cache
        .release_orphans()
        .await
        .unwrap_or_else(|e| panic!("release: {e:#}"));
    assert_eq!(released, 2);
    assert_eq!(h.balance(BUYER).await, 1_000);
    assert_eq!(
        h.cache
            .holdings(SELLER)
            .await
            .ok()
            .map(|list| list.iter().map(|x| x.quantity).sum::<u64>()),
        Some(3)
    );
    assert_cache_agrees(&h).await;
}

#[tokio::test]
async fn invalidating_everything_sends_the_next_reads_to_the_inner_store() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 700).await);
    assert_eq!(h.balance(USER).await, 700);
    assert!(is_hit(&h.cached_balance(USER).await, "700"));
    let reads_before = h.inner_reads();

    h.cache
        .invalidate_all()
        .await
        .unwrap_or_else(|e| panic!("invalidate: {e:#}"));
    assert!(
        !is_hit(&h.cached_balance(USER).await, "700"),
        "the old entry is not served after a start"
    );
    assert_eq!(h.balance(USER).await, 700);
    assert_eq!(
        h.inner_reads(),
        reads_before + 1,
        "rebuilt from the inner store"
    );
    assert!(is_hit(&h.cached_balance(USER).await, "700"));
}
