//! Throughput of the MongoDB portfolio store against a local SecantusDB (started here, like
//! the tests do): reservations per second (concurrent, distinct users), and settlement batches
//! of 100 outcomes per second (50 resting sells, then 50 buys that each fill one of them).
//!
//!     cargo run -p portfolio --example mongo_throughput [reserves] [batches]
//!
//! Prints one line per measurement. Setup work (deposits, the reservations a batch settles) is
//! not timed.

use std::sync::Arc;
use std::time::Instant;

use contracts::{
    CommandResult, EndReason, Fill, OrderEnded, OrderType, PlaceOrder, SelfTrade, ShardCommand,
    ShardOutcome, Side, TimeInForce, TradeId,
};
use portfolio::PortfolioStore;
use portfolio::domain::ports::EscrowRequest;
use portfolio::store::mongo::MongoPortfolio;
use test_services::mongo::TestMongo;

/// Concurrent reservation tasks (the order role serves many requests at once).
const CONCURRENCY: u64 = 32;
/// Outcomes per settlement batch, half resting sells and half filling buys.
const BATCH: u64 = 100;
const PRICE_CENTS: u64 = 100;

fn request(user_id: u64, side: Side) -> EscrowRequest {
    EscrowRequest {
        user_id,
        stock_id: 1,
        side,
        quantity: 1,
        limit_price_cents: Some(PRICE_CENTS),
        client_order_id: None,
    }
}

fn place(order_ref: u64, user_id: u64, side: Side) -> PlaceOrder {
    PlaceOrder {
        order_ref,
        user_id,
        stock_id: 1,
        side,
        order_type: OrderType::Limit {
            price_cents: PRICE_CENTS,
        },
        quantity: 1,
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

async fn reserve(store: &MongoPortfolio, request: EscrowRequest) -> anyhow::Result<u64> {
    match store.reserve(request).await? {
        Ok(escrow) => Ok(escrow.order_ref),
        Err(refusal) => anyhow::bail!("refused: {}", refusal.0),
    }
}

async fn measure_reserves(store: &Arc<MongoPortfolio>, total: u64) -> anyhow::Result<()> {
    for user in 1..=CONCURRENCY {
        store.deposit(1_000 + user, 1_000_000_000).await?.ok();
    }
    let started = Instant::now();
    let tasks: Vec<_> = (1..=CONCURRENCY)
        .map(|user| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for _ in 0..total / CONCURRENCY {
                    reserve(&store, request(1_000 + user, Side::Buy)).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let done = total / CONCURRENCY * CONCURRENCY;
    println!(
        "reserve: {done} in {:.2} s = {} ops/s ({CONCURRENCY} concurrent, distinct users)",
        elapsed.as_secs_f64(),
        per_second(done, elapsed)
    );
    Ok(())
}

async fn measure_settles(store: &MongoPortfolio, batches: u64) -> anyhow::Result<()> {
    const SELLERS: u64 = 10;
    const BUYERS: u64 = 10;
    for seller in 1..=SELLERS {
        store.add_shares(seller, 1, 1_000_000).await?.ok();
    }
    for buyer in 1..=BUYERS {
        store.deposit(100 + buyer, 1_000_000_000).await?.ok();
    }
    let mut sequence = 0;
    let mut trade = 0;
    let mut timed = std::time::Duration::ZERO;
    for _ in 0..batches {
        let mut outcomes = Vec::new();
        let mut pairs = Vec::new();
        for i in 0..BATCH / 2 {
            let seller = 1 + i % SELLERS;
            let buyer = 101 + i % BUYERS;
            let sell = reserve(store, request(seller, Side::Sell)).await?;
            let buy = reserve(store, request(buyer, Side::Buy)).await?;
            sequence += 1;
            outcomes.push(outcome(
                sequence,
                place(sell, seller, Side::Sell),
                vec![],
                vec![],
            ));
            pairs.push((seller, sell, buyer, buy));
        }
        for (seller, sell, buyer, buy) in pairs {
            sequence += 1;
            trade += 1;
            let fill = Fill {
                trade_id: TradeId {
                    stock_id: 1,
                    sequence: trade,
                },
                price_cents: PRICE_CENTS,
                quantity: 1,
                buyer_ref: buy,
                buyer_user: buyer,
                seller_ref: sell,
                seller_user: seller,
                taker_side: Side::Buy,
            };
            let end = |order_ref, user_id| OrderEnded {
                order_ref,
                user_id,
                reason: EndReason::Filled,
                filled: 1,
                remaining: 0,
            };
            outcomes.push(outcome(
                sequence,
                place(buy, buyer, Side::Buy),
                vec![fill],
                vec![end(sell, seller), end(buy, buyer)],
            ));
        }
        let started = Instant::now();
        store.settle(outcomes).await?;
        timed += started.elapsed();
    }
    println!(
        "settle: {batches} batches of {BATCH} outcomes ({} fills each) in {:.2} s = {} batches/s, {} outcomes/s, {} ms per batch",
        BATCH / 2,
        timed.as_secs_f64(),
        per_second(batches, timed),
        per_second(batches * BATCH, timed),
        timed.as_millis() / u128::from(batches.max(1)),
    );
    anyhow::ensure!(
        store.applied_through(0).await? == sequence,
        "every outcome applied"
    );
    Ok(())
}

/// `count` per `elapsed`, per second (integer arithmetic).
fn per_second(count: u64, elapsed: std::time::Duration) -> u128 {
    u128::from(count) * 1_000_000 / elapsed.as_micros().max(1)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let reserves = args.next().and_then(|a| a.parse().ok()).unwrap_or(4_000);
    let batches = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let server = TestMongo::start();
    let store = Arc::new(MongoPortfolio::connect(&server.url(), server.database_name()).await?);
    store.create_stock("Bench".to_owned()).await?.ok();
    measure_reserves(&store, reserves).await?;
    measure_settles(&store, batches).await?;
    Ok(())
}
