//! Tests of the MongoDB store beyond the shared suite (`store/tests.rs`, which runs every
//! scenario on both stores): concurrency, idempotency, integer limits.

use std::sync::Arc;

use contracts::{EndReason, OrderEnded, OrderType, Side};

use super::super::tests::{BUYER, SELLER, fill, mongo_store, ok, outcome, place};
use crate::domain::ports::{ClientOrderId, EscrowRequest, PortfolioStore};

fn limit_buy(user_id: u64, quantity: u64, price_cents: u64) -> EscrowRequest {
    EscrowRequest {
        user_id,
        stock_id: 1,
        side: Side::Buy,
        quantity,
        limit_price_cents: Some(price_cents),
        client_order_id: None,
    }
}

#[tokio::test]
async fn two_reservations_of_the_last_cash_one_wins() {
    let (_server, store) = mongo_store().await;
    let store = Arc::new(store);
    ok(store.create_stock("Apple".to_owned()).await);
    for user in 10..16 {
        ok(store.deposit(user, 1_000).await);
        let (a, b) = tokio::join!(
            store.reserve(limit_buy(user, 10, 100)),
            store.reserve(limit_buy(user, 1, 1_000)),
        );
        let granted = [&a, &b].iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        let refused = [&a, &b].iter().filter(|r| matches!(r, Ok(Err(_)))).count();
        assert_eq!((granted, refused), (1, 1), "user {user}: {a:?} {b:?}");
        assert_eq!(store.balance(user).await.ok(), Some(0));
    }
    assert_eq!(store.release_orphans().await.ok(), Some(6));
    assert_eq!(store.balance(10).await.ok(), Some(1_000));
}

#[tokio::test]
async fn concurrent_deposits_lose_no_update() {
    let (_server, store) = mongo_store().await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.deposit(BUYER, 7).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await, Ok(Ok(Ok(())))));
    }
    assert_eq!(store.balance(BUYER).await.ok(), Some(140));
}

#[tokio::test]
async fn a_client_order_id_reserves_once_even_when_raced() {
    let (_server, store) = mongo_store().await;
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.deposit(BUYER, 1_000).await);
    let key = ClientOrderId::parse("order-1").ok();
    let request = EscrowRequest {
        client_order_id: key,
        ..limit_buy(BUYER, 1, 100)
    };
    let (a, b) = tokio::join!(store.reserve(request), store.reserve(request));
    let (a, b) = (ok(a), ok(b));
    assert_eq!(a.order_ref, b.order_ref, "one order for one key");
    assert!(
        a.duplicate != b.duplicate,
        "exactly one was new: {a:?} {b:?}"
    );
    assert_eq!(store.balance(BUYER).await.ok(), Some(900), "escrowed once");
    let again = ok(store.reserve(request).await);
    assert!(again.duplicate && again.order_ref == a.order_ref);
    let other_user = EscrowRequest {
        user_id: SELLER,
        ..request
    };
    ok(store.deposit(SELLER, 100).await);
    assert!(
        !ok(store.reserve(other_user).await).duplicate,
        "keys are per user"
    );
}

#[tokio::test]
async fn a_stock_name_is_taken_once_even_when_raced() {
    let (_server, store) = mongo_store().await;
    let (a, b) = tokio::join!(
        store.create_stock("Apple".to_owned()),
        store.create_stock("Apple".to_owned())
    );
    let results = [a, b];
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count(), 1);
    assert_eq!(
        results.iter().filter(|r| matches!(r, Ok(Err(_)))).count(),
        1
    );
    assert_eq!(store.stocks().await.map(|s| s.len()).ok(), Some(1));
}

/// Everything the API can read about the two users and shard 0.
async fn snapshot(store: &dyn PortfolioStore) -> String {
    let mut state = format!("applied {:?}\n", store.applied_through(0).await.ok());
    for user in [SELLER, BUYER] {
        state += &format!(
            "user {user}: cash {:?} holdings {:?}\nstock txs {:?}\nwallet txs {:?}\n",
            store.balance(user).await.ok(),
            store.holdings(user).await.ok(),
            store.stock_txs(user).await.ok(),
            store.wallet_txs(user).await.ok(),
        );
    }
    state
}

#[tokio::test]
async fn settling_the_same_outcomes_again_changes_nothing() {
    let (_server, store) = mongo_store().await;
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 10).await);
    ok(store.deposit(BUYER, 10_000).await);
    let sell = ok(store
        .reserve(EscrowRequest {
            user_id: SELLER,
            side: Side::Sell,
            ..limit_buy(SELLER, 10, 500)
        })
        .await);
    let buy = ok(store.reserve(limit_buy(BUYER, 6, 500)).await);
    let sell_place = place(
        sell.order_ref,
        SELLER,
        Side::Sell,
        OrderType::Limit { price_cents: 500 },
        10,
    );
    let buy_place = place(
        buy.order_ref,
        BUYER,
        Side::Buy,
        OrderType::Limit { price_cents: 500 },
        6,
    );
    let ended = |filled| OrderEnded {
        order_ref: buy.order_ref,
        user_id: BUYER,
        reason: EndReason::Filled,
        filled,
        remaining: 0,
    };
    let outcomes = vec![
        outcome(1, sell_place, vec![], vec![]),
        outcome(
            2,
            buy_place,
            vec![
                fill(1, buy.order_ref, sell.order_ref, 500, 2),
                fill(2, buy.order_ref, sell.order_ref, 500, 4),
            ],
            vec![ended(6)],
        ),
    ];
    let settle = |batch: Vec<_>| {
        let store = &store;
        async move {
            store
                .settle(batch)
                .await
                .unwrap_or_else(|e| panic!("settle: {e:#}"));
        }
    };
    settle(outcomes[..1].to_vec()).await;
    settle(outcomes.clone()).await;
    let once = snapshot(&store).await;
    settle(outcomes.clone()).await;
    settle(outcomes[1..].to_vec()).await;
    assert_eq!(snapshot(&store).await, once);
    assert_eq!(store.applied_through(0).await.ok(), Some(2));
    assert_eq!(store.balance(SELLER).await.ok(), Some(3_000));
    assert_eq!(store.balance(BUYER).await.ok(), Some(7_000));
    let wallet_txs = store.wallet_txs(BUYER).await.unwrap_or_default();
    assert_eq!(wallet_txs.len(), 2, "two fills, each settled once");
    let seller_txs = store.stock_txs(SELLER).await.unwrap_or_default();
    let ids: Vec<u64> = seller_txs.iter().map(|tx| tx.stock_tx_id).collect();
    assert_eq!(
        ids.len(),
        3,
        "the order and its two fills, oldest first: {ids:?}"
    );
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids are increasing: {ids:?}"
    );
    let buyer_wallet_ids: Vec<u64> = wallet_txs.iter().map(|tx| tx.wallet_tx_id).collect();
    let seller_wallet_ids: Vec<u64> = store
        .wallet_txs(SELLER)
        .await
        .unwrap_or_default()
        .iter()
        .map(|tx| tx.wallet_tx_id)
        .collect();
    assert!(
        buyer_wallet_ids
            .iter()
            .all(|id| !seller_wallet_ids.contains(id)),
        "wallet tx ids are unique: {buyer_wallet_ids:?} {seller_wallet_ids:?}"
    );
}

#[tokio::test]
async fn amounts_beyond_int64_are_refused_not_wrapped() {
    let (_server, store) = mongo_store().await;
    let too_much = u64::try_from(i64::MAX).unwrap_or_default() + 1;
    assert!(matches!(store.deposit(BUYER, too_much).await, Ok(Err(_))));
    assert_eq!(store.balance(BUYER).await.ok(), Some(0));
    ok(store.deposit(BUYER, 5).await);
    ok(store.create_stock("Apple".to_owned()).await);
    let huge = limit_buy(BUYER, 2, too_much);
    assert!(matches!(store.reserve(huge).await, Ok(Err(_))));
    assert_eq!(store.balance(BUYER).await.ok(), Some(5));
}

#[tokio::test]
async fn settlement_and_deposits_on_one_wallet_lose_no_update() {
    let (_server, store) = mongo_store().await;
    ok(store.create_stock("Apple".to_owned()).await);
    ok(store.add_shares(SELLER, 1, 100).await);
    ok(store.deposit(BUYER, 100_000).await);
    const TRADES: u64 = 12;
    let mut outcomes = Vec::new();
    for trade in 1..=TRADES {
        let sell = ok(store
            .reserve(EscrowRequest {
                user_id: SELLER,
                side: Side::Sell,
                ..limit_buy(SELLER, 1, 100)
            })
            .await);
        let buy = ok(store.reserve(limit_buy(BUYER, 1, 100)).await);
        let end = |order_ref, user_id| OrderEnded {
            order_ref,
            user_id,
            reason: EndReason::Filled,
            filled: 1,
            remaining: 0,
        };
        let sell_place = place(
            sell.order_ref,
            SELLER,
            Side::Sell,
            OrderType::Limit { price_cents: 100 },
            1,
        );
        let buy_place = place(
            buy.order_ref,
            BUYER,
            Side::Buy,
            OrderType::Limit { price_cents: 100 },
            1,
        );
        outcomes.push(outcome(2 * trade - 1, sell_place, vec![], vec![]));
        outcomes.push(outcome(
            2 * trade,
            buy_place,
            vec![fill(trade, buy.order_ref, sell.order_ref, 100, 1)],
            vec![end(sell.order_ref, SELLER), end(buy.order_ref, BUYER)],
        ));
    }
    let settling = async {
        for pair in outcomes.chunks(2) {
            store
                .settle(pair.to_vec())
                .await
                .unwrap_or_else(|e| panic!("settle: {e:#}"));
        }
    };
    let depositing = async {
        for _ in 0..TRADES {
            ok(store.deposit(SELLER, 1).await);
        }
    };
    tokio::join!(settling, depositing);
    assert_eq!(
        store.balance(SELLER).await.ok(),
        Some(TRADES * 100 + TRADES)
    );
    assert_eq!(
        store.balance(BUYER).await.ok(),
        Some(100_000 - TRADES * 100)
    );
    assert_eq!(store.applied_through(0).await.ok(), Some(2 * TRADES));
}
