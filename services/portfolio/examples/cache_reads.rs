//! getWalletBalance-equivalent reads per second: through the Redis cache (hits) versus the
//! inner store alone, in one run, plus what the cache adds to a deposit.
//!
//! `cargo run --release -p portfolio --example cache_reads [users] [reads_per_task] [tasks]`
//!
//! Starts a private `redis-server` (loopback) and uses the throwaway in-memory store as the inner
//! store; in production the inner store is MongoDB, a network round trip away.

use std::sync::Arc;
use std::time::Instant;

use portfolio::PortfolioStore;
use portfolio::cache::CachedPortfolio;
use test_services::redis::TestRedis;

fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .nth(index)
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// Reads `reads` balances from each of `tasks` tasks; returns reads per second.
async fn reads_per_second(
    store: Arc<dyn PortfolioStore>,
    users: u64,
    reads: u64,
    tasks: u64,
) -> f64 {
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            for i in 0..reads {
                let user = (task * 7919 + i) % users + 1;
                if let Err(error) = store.balance(user).await {
                    panic!("read failed: {error:#}");
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap_or_else(|e| panic!("task: {e}"));
    }
    let total = u32::try_from(reads * tasks).unwrap_or(u32::MAX);
    f64::from(total) / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let users = arg(1, 1_000);
    let reads = arg(2, 2_000);
    let tasks = arg(3, 32);
    let redis = TestRedis::start();
    // Two stores with the same contents: one read directly, one behind the cache.
    let inner = Arc::new(portfolio::store::in_memory()?);
    let cached = Arc::new(
        CachedPortfolio::connect(&redis.url(), "bench:", portfolio::store::in_memory()?).await?,
    );

    let started = Instant::now();
    for user in 1..=users {
        inner
            .deposit(user, 1)
            .await?
            .map_err(|r| anyhow::anyhow!(r.0))?;
    }
    let inner_deposits = f64::from(u32::try_from(users)?) / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for user in 1..=users {
        cached
            .deposit(user, 1)
            .await?
            .map_err(|r| anyhow::anyhow!(r.0))?;
    }
    let cached_deposits = f64::from(u32::try_from(users)?) / started.elapsed().as_secs_f64();
    for user in 1..=users {
        cached.balance(user).await?; // warm: every later read is a hit
    }

    println!("users={users} reads/task={reads} tasks={tasks} (sequential deposits)");
    println!("deposit  inner {inner_deposits:>10.0}/s   through cache {cached_deposits:>10.0}/s");
    for concurrency in [1, tasks] {
        let per_task = if concurrency == 1 { reads * 4 } else { reads };
        let inner_rate = reads_per_second(inner.clone(), users, per_task, concurrency).await;
        let cache_rate = reads_per_second(cached.clone(), users, per_task, concurrency).await;
        println!(
            "balance  inner {inner_rate:>10.0}/s   cache hits    {cache_rate:>10.0}/s   ({concurrency} tasks)"
        );
    }
    Ok(())
}
