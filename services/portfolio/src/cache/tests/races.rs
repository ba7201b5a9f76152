//! Readers racing writers, each interleaving driven exactly by the inner store's gates.

use std::sync::Arc;

use super::{Harness, USER, is_hit, ok};
use crate::cache::redis_side::Lookup;
use crate::domain::ports::PortfolioStore;

/// Starts `deposit(USER, amount)` through the cache in its own task.
fn spawn_deposit(h: &Harness, amount: u64) -> tokio::task::JoinHandle<()> {
    let cache = Arc::clone(&h.cache);
    tokio::spawn(async move { ok(cache.deposit(USER, amount).await) })
}

/// Starts a balance read through the cache in its own task.
fn spawn_read(h: &Harness) -> tokio::task::JoinHandle<u64> {
    let cache = Arc::clone(&h.cache);
    tokio::spawn(async move {
        cache
            .balance(USER)
            .await
            .unwrap_or_else(|e| panic!("balance: {e:#}"))
    })
}

async fn join<T>(task: tokio::task::JoinHandle<T>) -> T {
    task.await.unwrap_or_else(|e| panic!("task: {e}"))
}

#[tokio::test]
async fn while_a_write_is_in_flight_reads_go_to_the_inner_store_and_cache_nothing() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);

    // Step 1 done, inner write not yet made: the old value is still the truth.
    h.gates.before_write.arm();
    h.gates.after_write.arm();
    let writer = spawn_deposit(&h, 50);
    h.gates.before_write.arrival().await;
    assert_eq!(h.cached_balance(USER).await, Lookup::Pending);
    assert_eq!(h.balance(USER).await, 100);
    assert_eq!(
        h.cached_balance(USER).await,
        Lookup::Pending,
        "nothing cached"
    );

    // Inner write committed, step 2 not done: readers already see the new value.
    h.gates.before_write.release();
    h.gates.after_write.arrival().await;
    assert_eq!(h.balance(USER).await, 150);
    assert_eq!(
        h.cached_balance(USER).await,
        Lookup::Pending,
        "nothing cached"
    );

    h.gates.after_write.release();
    join(writer).await;
    assert_eq!(h.balance(USER).await, 150);
    assert!(is_hit(&h.cached_balance(USER).await, "150"));
}

#[tokio::test]
async fn a_reader_that_read_before_a_write_never_caches_the_old_value() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);

    // The reader looked up (miss) and read 100 from the inner store; it has not populated.
    h.gates.after_read.arm();
    let reader = spawn_read(&h);
    h.gates.after_read.arrival().await;
    // A whole write happens in between.
    ok(h.cache.deposit(USER, 50).await);
    h.gates.after_read.release();
    assert_eq!(
        join(reader).await,
        100,
        "the read began before the write ended"
    );

    assert_eq!(
        h.raw_balance_entry(USER).await,
        None,
        "the stale read must not even be stored"
    );
    assert!(matches!(h.cached_balance(USER).await, Lookup::Miss { .. }));
    assert_eq!(h.balance(USER).await, 150);
    assert!(is_hit(&h.cached_balance(USER).await, "150"));
}

#[tokio::test]
async fn a_reader_whose_populate_meets_a_pending_write_caches_nothing() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);

    h.gates.after_read.arm();
    let reader = spawn_read(&h);
    h.gates.after_read.arrival().await;
    // A writer does step 1 and stops before its inner write.
    h.gates.before_write.arm();
    let writer = spawn_deposit(&h, 50);
    h.gates.before_write.arrival().await;
    h.gates.after_read.release();
    assert_eq!(join(reader).await, 100);
    assert_eq!(h.raw_balance_entry(USER).await, None, "nothing stored");
    assert_eq!(h.cached_balance(USER).await, Lookup::Pending);

    h.gates.before_write.release();
    join(writer).await;
    assert_eq!(h.balance(USER).await, 150);
    assert!(is_hit(&h.cached_balance(USER).await, "150"));
}
