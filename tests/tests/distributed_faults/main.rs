//! Fault tests of the distributed deployment (issue 4, "How it is proven"): each test starts its
//! own topology on loopback (SecantusDB, a private Redis, the machine's RabbitMQ under a unique
//! prefix, one process per role, nginx), runs a stream of orders through the gateway from
//! several trader threads (`system_tests::stream`), breaks one piece in the middle of it, and
//! then checks through the API alone that every acknowledged order is recorded exactly once
//! with a status consistent with its fills, nothing was settled twice, cash and shares are
//! conserved, escrow equals what resting orders need, and no balance is negative.
//!
//! - [`engine_kill`]: `kill -9` of an engine shard, restart; books rebuilt identically (the
//!   persisted state hash; SIGTERM then restart gives the same sequence and hash).
//! - [`order_kill`]: `kill -9` of the order role, restart (orphaned escrow is expired by the
//!   portfolio role's sweeper, `EXCHANGE_ORPHAN_AFTER=2s`).
//! - [`redis_faults`]: FLUSHALL, a Redis restart, Redis down for a while.
//!
//! The broker restart is `tests/tests/distributed_broker_restart.rs` (its own binary: it
//! restarts the machine's shared RabbitMQ). Every wait polls a condition with a deadline; on a
//! failure the roles' log tails are printed. Measured times are printed lines (`--nocapture`).

mod engine_kill;
mod order_kill;
mod redis_faults;

use std::time::Duration;

use std::sync::Arc;

use system_tests::stream::{Market, SHARDS, Stream, StreamOptions, StreamReport, Verified, verify};

/// How long the invariants may take to hold after a stream (in-flight orders settle, orphaned
/// reservations expire).
pub const SETTLE_DEADLINE: Duration = Duration::from_secs(60);
/// How long a stream may take to reach a milestone.
pub const STREAM_DEADLINE: Duration = Duration::from_secs(300);

/// [`verify`], panicking with the problems; prints what was checked.
pub fn verified(label: &str, market: &Market, report: &StreamReport) -> Verified {
    println!("{label}: {}", report.summary());
    let verified = verify(market, report, SETTLE_DEADLINE)
        .unwrap_or_else(|problems| panic!("{label}: {problems}"));
    println!("{label}: {verified:?}");
    assert!(
        verified.acknowledged_sells > 0 && verified.acknowledged_buys > 0,
        "{label}: the stream acknowledged too little to prove anything: {verified:?}"
    );
    verified
}

/// A short stream after a fault: both shards acknowledge new orders again. Returns its report
/// (to be verified with the rest).
pub fn new_orders_work(market: &Arc<Market>) -> StreamReport {
    let stream = Stream::start(market, StreamOptions::default());
    stream.wait_for(
        "20 new orders acknowledged on every shard",
        STREAM_DEADLINE,
        |progress| (0..SHARDS).all(|shard| progress.acknowledged(shard) >= 20),
    );
    stream.stop()
}

/// The id of the market's first stock on `shard`.
pub fn stock_on(market: &Market, shard: usize) -> serde_json::Value {
    market
        .stocks
        .get(market.stock_on(shard))
        .map_or(serde_json::Value::Null, |(id, _)| id.clone())
}
