//! Handler tests: the real portfolio on an in-memory store, a scripted fake shard.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use contracts::embedded::BestAsk;
use contracts::{CommandResult, EndReason, ExpireOrder, OrderEnded, ShardCommand, ShardOutcome};
use portfolio::PortfolioStore;

use crate::OrderDeps;
use crate::domain::ports::ShardRouter;

/// A shard that kills every market order, rests every limit order, records what it got, and has
/// the portfolio settle each outcome like the real settler.
struct FakeShard {
    seen: Mutex<Vec<ShardCommand>>,
    portfolio: Arc<dyn PortfolioStore>,
    /// Answer places as a shard that expired their ref before they arrived (the sweeper won).
    expired_first: AtomicBool,
    /// Whether a command could be sent now (false: the broker is away).
    reachable: AtomicBool,
}

#[async_trait]
impl ShardRouter for FakeShard {
    async fn execute(&self, command: ShardCommand) -> anyhow::Result<ShardOutcome> {
        let sequence = {
            let mut seen = self.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            seen.push(command);
            u64::try_from(seen.len())?
        };
        let mut outcome = ShardOutcome {
            version: 1,
            shard: 0,
            sequence,
            timestamp_ns: 0,
            command,
            result: CommandResult::Accepted,
            fills: vec![],
            ended: vec![],
        };
        if let ShardCommand::Place(place) = command
            && self.expired_first.load(Ordering::SeqCst)
        {
            outcome.command = ShardCommand::Expire(ExpireOrder {
                order_ref: place.order_ref,
                user_id: place.user_id,
                stock_id: place.stock_id,
            });
            outcome.ended.push(OrderEnded {
                order_ref: place.order_ref,
                user_id: place.user_id,
                reason: EndReason::Expired,
                filled: 0,
                remaining: 0,
            });
        } else if let ShardCommand::Place(place) = command
            && matches!(place.order_type, contracts::OrderType::Market { .. })
        {
            outcome.ended.push(OrderEnded {
                order_ref: place.order_ref,
                user_id: place.user_id,
                reason: EndReason::Expired,
                filled: 0,
                remaining: place.quantity,
            });
        }
        self.portfolio.settle(vec![outcome.clone()]).await?;
        Ok(outcome)
    }

    async fn best_asks(&self) -> anyhow::Result<Vec<BestAsk>> {
        Ok(vec![BestAsk {
            stock_id: 1,
            price_cents: 13_550,
        }])
    }

    fn ready(&self) -> bool {
        self.reachable.load(Ordering::SeqCst)
    }
}

struct App {
    router: axum::Router,
    token: String,
    shard: Arc<FakeShard>,
}

async fn app() -> App {
    let (authenticator, token) = platform::testing::signed_in(b"s", 7);
    let store = portfolio::store::in_memory().unwrap_or_else(|e| panic!("store: {e}"));
    let portfolio: Arc<dyn PortfolioStore> = Arc::new(store);
    assert!(matches!(
        portfolio.create_stock("Apple".to_owned()).await,
        Ok(Ok(1))
    ));
    assert!(matches!(portfolio.add_shares(7, 1, 10).await, Ok(Ok(()))));
    assert!(matches!(portfolio.deposit(7, 1_000).await, Ok(Ok(()))));
    let shard = Arc::new(FakeShard {
        seen: Mutex::default(),
        portfolio: Arc::clone(&portfolio),
        expired_first: AtomicBool::new(false),
        reachable: AtomicBool::new(true),
    });
    let deps = OrderDeps {
        portfolio,
        shards: shard.clone(),
        authenticator,
        buyer_locks: Arc::default(),
    };
    App {
        router: super::router(deps),
        token,
        shard,
    }
}

impl App {
    async fn call(&self, method: &str, path: &str, body: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("token", &self.token)
            .body(Body::from(body.to_owned()))
            .unwrap_or_else(|e| panic!("request: {e}"));
        platform::testing::send(&self.router, request).await
    }

    fn commands_seen(&self) -> usize {
        self.shard
            .seen
            .lock()
            .map(|seen| seen.len())
            .unwrap_or(usize::MAX)
    }
}

#[tokio::test]
async fn invalid_orders_are_400_and_never_reach_a_shard() {
    let app = app().await;
    let bad = [
        r#"{"stock_id":"1","is_buy":true,"order_type":"MARKET","quantity":1,"price":5}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":1}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":"ten","price":5}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":0,"price":5}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":1.5,"price":5}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":11,"price":5}"#,
        r#"{"stock_id":"2","is_buy":false,"order_type":"LIMIT","quantity":1,"price":5}"#,
        r#"{"stock_id":"1","is_buy":"no","order_type":"LIMIT","quantity":1,"price":5}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"STOP","quantity":1,"price":5}"#,
    ];
    for body in bad {
        let (status, text) = app.call("POST", "/engine/placeStockOrder", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {text}");
    }
    assert_eq!(app.commands_seen(), 0);
}

#[tokio::test]
async fn a_resting_sell_is_200_and_an_unfilled_market_buy_is_400() {
    let app = app().await;
    let sell = r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":4,"price":135.5}"#;
    assert_eq!(
        app.call("POST", "/engine/placeStockOrder", sell).await,
        (StatusCode::OK, r#"{"success":true,"data":null}"#.to_owned())
    );
    let buy = r#"{"stock_id":1,"is_buy":true,"order_type":"MARKET","quantity":4,"price":null}"#;
    assert_eq!(
        app.call("POST", "/engine/placeStockOrder", buy).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.commands_seen(), 2);
}

#[tokio::test]
async fn a_place_the_sweeper_expired_first_is_503_and_leaves_nothing_behind() {
    let app = app().await;
    app.shard.expired_first.store(true, Ordering::SeqCst);
    let buy = r#"{"stock_id":"1","is_buy":true,"order_type":"LIMIT","quantity":2,"price":3}"#;
    let (status, body) = app.call("POST", "/engine/placeStockOrder", buy).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(app.commands_seen(), 1);
    let portfolio = &app.shard.portfolio;
    assert_eq!(
        portfolio.balance(7).await.ok(),
        Some(1_000),
        "escrow released"
    );
    assert_eq!(
        portfolio.stock_txs(7).await.ok().map(|txs| txs.len()),
        Some(0)
    );
}

#[tokio::test]
async fn with_no_route_to_the_shards_an_order_is_503_and_reserves_nothing() {
    let app = app().await;
    app.shard.reachable.store(false, Ordering::SeqCst);
    let orders = [
        r#"{"stock_id":"1","is_buy":true,"order_type":"MARKET","quantity":2}"#,
        r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":2,"price":3}"#,
    ];
    for order in orders {
        let (status, body) = app.call("POST", "/engine/placeStockOrder", order).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{order}: {body}");
    }
    assert_eq!(app.commands_seen(), 0);
    let portfolio = &app.shard.portfolio;
    assert_eq!(portfolio.balance(7).await.ok(), Some(1_000));
    let holdings = portfolio.holdings(7).await.unwrap_or_default();
    assert_eq!(holdings.first().map(|h| h.quantity), Some(10));
    assert_eq!(
        portfolio
            .pending_reservations(std::time::SystemTime::now(), 10)
            .await
            .ok()
            .map(|p| p.len()),
        Some(0)
    );
}

#[tokio::test]
async fn cancel_needs_an_open_order_of_the_caller() {
    let app = app().await;
    for body in [r#"{"stock_tx_id":"99"}"#, r#"{"stock_tx_id":"x"}"#, "{}"] {
        assert_eq!(
            app.call("POST", "/engine/cancelStockTransaction", body)
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
    assert_eq!(app.commands_seen(), 0);
}

#[tokio::test]
async fn prices_join_best_asks_with_names() {
    let app = app().await;
    let (status, body) = app.call("GET", "/transaction/getStockPrices", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"success":true,"data":[{"stock_id":"1","stock_name":"Apple","current_price":135.5}]}"#
    );
}

#[tokio::test]
async fn a_repeated_client_order_id_answers_like_the_first_and_places_once() {
    let app = app().await;
    let sell = r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":2,"price":7,"client_order_id":"retry-1"}"#;
    let ok = (StatusCode::OK, r#"{"success":true,"data":null}"#.to_owned());
    assert_eq!(app.call("POST", "/engine/placeStockOrder", sell).await, ok);
    assert_eq!(app.call("POST", "/engine/placeStockOrder", sell).await, ok);
    assert_eq!(app.commands_seen(), 1, "placed once");
    let buy = r#"{"stock_id":"1","is_buy":true,"order_type":"MARKET","quantity":1,"client_order_id":"retry-2"}"#;
    assert_eq!(
        app.call("POST", "/engine/placeStockOrder", buy).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.call("POST", "/engine/placeStockOrder", buy).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.commands_seen(), 2, "the killed buy is not retried");
    let bad = r#"{"stock_id":"1","is_buy":false,"order_type":"LIMIT","quantity":1,"price":7,"client_order_id":"no spaces"}"#;
    assert_eq!(
        app.call("POST", "/engine/placeStockOrder", bad).await.0,
        StatusCode::BAD_REQUEST
    );
}
