//! Bytes of heap per resting order: a counting global allocator records the live heap, then N
//! non-crossing GTC limits (one user each) rest in a fresh engine over 60 levels (30 a side);
//! the figure is (live heap after - live heap before) / N, which includes the amortised growth
//! slack of the order slab and the id index at that N. The peers are measured the same way.
//!
//! Run: `cargo bench -p matching --bench memory`.

#![allow(missing_docs)]

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

use matching::{
    Action, Command, Engine, NewOrder, OrderId, OrderKind, Price, Quantity, SelfTradePrevention,
    Side, StockId, TimeInForce, UserId,
};

/// The system allocator with counters (no unsafe here: the crate forbids it).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes right now.
fn live() -> usize {
    let stats = GLOBAL.stats();
    // Realloc growth and shrinkage are already in these two counters.
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated)
}

/// The i-th resting order: alternating sides, 30 levels a side around 100,000.
fn order(i: u64) -> (Side, u64, u64) {
    let side = if i.is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let offset = 1 + (i / 2) % 30;
    let price = match side {
        Side::Buy => 100_000 - offset,
        Side::Sell => 100_000 + offset,
    };
    (side, price, 1 + i % 100)
}

fn ours(n: u64) -> usize {
    let mut out = Vec::with_capacity(16);
    let before = live();
    let mut engine = Engine::new();
    for i in 0..n {
        let (side, price, quantity) = order(i);
        let command = Command {
            stock_id: StockId(1),
            sequence: i,
            timestamp_ns: i,
            action: Action::Place(NewOrder {
                order_id: OrderId(i + 1),
                user_id: UserId(i + 1),
                side,
                kind: OrderKind::Limit {
                    price: Price(price),
                },
                quantity: Quantity(quantity),
                time_in_force: TimeInForce::Gtc,
                post_only: false,
                self_trade: SelfTradePrevention::Skip,
                stop_price: None,
            }),
        };
        out.clear();
        engine.apply(&command, &mut out);
    }
    let bytes = live() - before;
    assert_eq!(
        engine.book(StockId(1)).map(|b| b.orders().count() as u64),
        Some(n)
    );
    drop(engine);
    bytes
}

fn nanobook(n: u64) -> usize {
    let before = live();
    let mut exchange = nanobook::Exchange::new();
    for i in 0..n {
        let (side, price, quantity) = order(i);
        let side = if side == Side::Buy {
            nanobook::Side::Buy
        } else {
            nanobook::Side::Sell
        };
        let price = nanobook::Price(i64::try_from(price).unwrap_or(i64::MAX));
        std::hint::black_box(exchange.submit_limit(
            side,
            price,
            quantity,
            nanobook::TimeInForce::GTC,
        ));
    }
    let bytes = live() - before;
    drop(exchange);
    bytes
}

fn matchcore(n: u64) -> usize {
    let before = live();
    let mut book = matchcore::OrderBook::new("BENCH");
    for i in 0..n {
        let (side, price, quantity) = order(i);
        let side = if side == Side::Buy {
            matchcore::Side::Buy
        } else {
            matchcore::Side::Sell
        };
        let command = matchcore::Command {
            meta: matchcore::CommandMeta {
                sequence_number: matchcore::SequenceNumber(i),
                timestamp: matchcore::Timestamp(i),
            },
            kind: matchcore::CommandKind::Submit(matchcore::SubmitCmd {
                order: matchcore::NewOrder::Limit(matchcore::LimitOrder::new(
                    matchcore::Price(price),
                    matchcore::QuantityPolicy::Standard {
                        quantity: matchcore::Quantity(quantity),
                    },
                    matchcore::OrderFlags::new(side, false, matchcore::TimeInForce::Gtc),
                )),
            }),
        };
        std::hint::black_box(book.execute(&command));
    }
    let bytes = live() - before;
    drop(book);
    bytes
}

fn main() {
    println!(
        "size_of: Command {} B, Event {} B (every event is this big in the out Vec)",
        std::mem::size_of::<Command>(),
        std::mem::size_of::<matching::Event>()
    );
    println!("bytes of heap per resting order (live heap delta / N; 60 levels)");
    println!(
        "{:>10} {:>10} {:>10} {:>10}",
        "N", "ours", "nanobook", "matchcore"
    );
    for n in [1_000u64, 10_000, 20_000, 100_000, 1_000_000] {
        let per = |bytes: usize| bytes as f64 / n as f64;
        println!(
            "{n:>10} {:>10.1} {:>10.1} {:>10.1}",
            per(ours(n)),
            per(nanobook(n)),
            per(matchcore(n))
        );
    }
}
