//! Redis flushed, restarted or down, and writers that die between their two steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::error::Unavailable;

use super::{Harness, USER, is_hit, ok};
use crate::cache::CacheSettings;
use crate::cache::keys::Scope;
use crate::cache::redis_side::Lookup;
use crate::domain::ports::PortfolioStore;

fn assert_unavailable<T: std::fmt::Debug>(result: anyhow::Result<T>, what: &str) {
    match result {
        Err(error) => assert!(Unavailable::is_in(&error), "{what}: {error:#}"),
        Ok(value) => panic!("{what} succeeded with Redis down: {value:?}"),
    }
}

#[tokio::test]
async fn after_a_flushall_values_are_rebuilt_from_the_inner_store() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);
    let reads = h.inner_reads();

    h.redis.flushall();
    assert_eq!(h.balance(USER).await, 100);
    assert_eq!(h.inner_reads(), reads + 1, "rebuilt from the inner store");
    assert!(is_hit(&h.cached_balance(USER).await, "100"));
    ok(h.cache.deposit(USER, 1).await);
    assert_eq!(h.balance(USER).await, 101);
}

#[tokio::test]
async fn after_a_restart_values_are_rebuilt_and_the_first_call_succeeds() {
    let mut h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);

    h.redis.restart();
    assert_eq!(h.balance(USER).await, 100, "the first read after a restart");
    assert!(is_hit(&h.cached_balance(USER).await, "100"));

    h.redis.restart();
    ok(h.cache.deposit(USER, 5).await);
    assert_eq!(h.balance(USER).await, 105);
}

#[tokio::test]
async fn a_flush_during_a_write_is_repaired_by_the_writers_second_step() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    h.gates.before_write.arm();
    let cache = Arc::clone(&h.cache);
    let writer = tokio::spawn(async move { ok(cache.deposit(USER, 50).await) });
    h.gates.before_write.arrival().await;

    // The pending marker is lost: a reader may cache the pre-write value meanwhile...
    h.redis.flushall();
    assert_eq!(h.balance(USER).await, 100);
    assert!(is_hit(&h.cached_balance(USER).await, "100"));
    // ...which the writer's step 2 removes before the write is acknowledged.
    h.gates.before_write.release();
    writer.await.unwrap_or_else(|e| panic!("writer: {e}"));
    assert_eq!(h.balance(USER).await, 150);
}

#[tokio::test]
async fn with_redis_down_reads_and_writes_are_unavailable_and_nothing_changes() {
    let mut h = Harness::start().await;
    ok(h.cache.create_stock("Apple".to_owned()).await);
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);

    h.redis.stop();
    assert_unavailable(h.cache.balance(USER).await, "balance");
    assert_unavailable(h.cache.holdings(USER).await, "holdings");
    assert_unavailable(h.cache.deposit(USER, 50).await, "deposit");
    assert_unavailable(h.cache.add_shares(USER, 1, 5).await, "add_shares");
    assert_unavailable(h.cache.release_orphans().await, "release_orphans");
    assert_eq!(
        h.true_balance(USER).await,
        100,
        "the inner store is unchanged"
    );
    assert_eq!(h.store.holdings(USER).await.ok(), Some(vec![]));

    h.redis.restart();
    assert_eq!(h.balance(USER).await, 100);
    ok(h.cache.deposit(USER, 50).await);
    assert_eq!(h.balance(USER).await, 150);
}

#[tokio::test]
async fn a_write_whose_second_step_fails_stands_and_is_read_back() {
    let mut h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);
    h.gates.after_write.arm();
    let cache = Arc::clone(&h.cache);
    let writer = tokio::spawn(async move { cache.deposit(USER, 50).await });
    h.gates.after_write.arrival().await;
    h.redis.stop();
    h.gates.after_write.release();
    let answer = writer.await.unwrap_or_else(|e| panic!("writer: {e}"));
    assert!(
        matches!(answer, Ok(Ok(()))),
        "the durable write is reported done"
    );
    assert_eq!(h.true_balance(USER).await, 150);
    h.redis.restart();
    assert_eq!(h.balance(USER).await, 150);
}

#[tokio::test]
async fn a_writer_that_dies_after_step_one_never_makes_reads_wrong() {
    let pending_ttl = Duration::from_millis(300);
    let h = Harness::with_settings(CacheSettings {
        pending_ttl,
        ..CacheSettings::default()
    })
    .await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);

    // The crashed writer: step 1, its inner write, and no step 2.
    let started = Instant::now();
    h.cache
        .redis
        .begin_write(vec![Scope::User(USER)])
        .await
        .unwrap_or_else(|e| panic!("step 1: {e:#}"));
    ok(h.store.deposit(USER, 50).await);
    assert_eq!(h.balance(USER).await, 150);
    assert_eq!(h.cached_balance(USER).await, Lookup::Pending);

    // Once the dead writer's deadline passes, the cache is used again, with the right value.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert_eq!(h.balance(USER).await, 150);
        if is_hit(&h.cached_balance(USER).await, "150") {
            break;
        }
        assert!(Instant::now() < deadline, "the cache never recovered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        started.elapsed() >= pending_ttl,
        "recovered before the deadline"
    );
}

#[tokio::test]
async fn a_write_with_an_unknown_outcome_leaves_its_user_uncached_until_the_deadline() {
    let h = Harness::start().await;
    ok(h.cache.deposit(USER, 100).await);
    assert_eq!(h.balance(USER).await, 100);
    h.gates
        .fail_after_deposit
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(h.cache.deposit(USER, 50).await.is_err());
    // The store applied it after all; the cache must not have kept or rebuilt the old value.
    assert_eq!(h.cached_balance(USER).await, Lookup::Pending);
    assert_eq!(h.balance(USER).await, 150);
    assert_eq!(h.cached_balance(USER).await, Lookup::Pending);
}
