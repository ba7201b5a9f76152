//! The Redis cache of the hot reads (a user's available balance and holdings) in front of any
//! [`PortfolioStore`] (MongoDB in production). The inner store is the truth: the cache is never
//! the only copy of anything, and it never serves a value older than a write that finished.
//!
//! # Protocol
//! Per user `U` Redis holds a generation `gen:U` (a random token), the pending writers
//! `pending:U` (a sorted set of writer tokens scored by a deadline in Redis time) and the
//! entries (`balance`, `holdings`: hashes of `{gen, value}`, amounts as integer cents or whole
//! lots, with a TTL). The same pair `gen`/`pending` exists once globally (`all:`), for writes
//! whose users are unknown up front (`release_orphans`). An entry counts only if its `gen` is
//! the current `gen:U/gen:all` and no writer of `U` or of everything is pending.
//! - **Write** (deposit, add_shares, reserve, settle, release_orphans). Step 1, before the
//!   inner write, one script per scope touched (pipelined for a settle batch): add this
//!   writer's token to `pending` with deadline now + pending TTL, set a fresh generation,
//!   delete the entries. If Redis fails here the write returns
//!   [`Unavailable`](platform::error::Unavailable) and the inner store is not written (nothing
//!   half-applied). Step 2, after the inner write answered (done or refused): remove the
//!   writer's token, set a fresh generation, delete the entries. If step 2 fails the inner
//!   write stands (it is durable and its answer is returned) and the pending token keeps
//!   readers off the cache for those users until its deadline. When the inner write fails
//!   (`Err`: its outcome is unknown, a networked store may still apply it) step 2 is skipped
//!   on purpose, for the same effect.
//! - **Read**. One script reads the generation (creating a fresh one when Redis has none),
//!   the pending writers and the entry: a hit is served; with a writer pending the inner store
//!   is read and nothing is stored; on a miss the inner store is read and the value stored
//!   by a second script only if the generation is still the one the first script saw and no
//!   writer is pending.
//!
//! # Why no finished write is ever hidden
//! Take a read that stores value `v` under generation `g`, and a write `W` that committed to
//! the inner store before some later read is served `v`. `W`'s step 1 ran before its commit.
//! If step 1 ran before the reader's lookup, then at lookup time `W` was either still pending
//! (the reader does not store) or finished (its commit preceded the reader's inner read, so
//! `v` includes it). If step 1 ran after the lookup, it replaced `g`: the store is refused
//! when it comes later, and when it came earlier step 1 deleted the entry (and its `gen` no
//! longer matches anyway). Generations are 128-bit random tokens, never counters, so a flush,
//! a restart or an expired key can never make an old generation current again; an entry
//! written before them simply stops matching.
//!
//! Pending writers are a set of tokens with their own deadlines rather than a counter: a
//! writer that crashed between its steps blocks its users' cache for its own deadline only
//! (a counter's TTL would be renewed by every later writer), and a writer finishing after a
//! flush removes only its own token (a counter would go negative or cancel someone else's).
//!
//! # Limits
//! - Every writer of the inner store must go through this cache with the same Redis and
//!   prefix (the portfolio and order roles both do); a write that bypasses it is not seen
//!   until the entry's TTL.
//! - The pending marker lives in Redis. If Redis loses it (FLUSHALL, restart, eviction) while
//!   a write is between its steps, a reader may store the pre-write value; that write's step
//!   2 then removes it before the writer answers. Only if step 2 also fails can the stale
//!   entry live until its TTL (two faults within one write). Likewise an inner write must
//!   finish within the pending TTL. Run Redis with `maxmemory-policy noeviction` (the default).
//! - Redis down: reads and writes fail with [`Unavailable`](platform::error::Unavailable) (a
//!   503, after the connection manager's reconnect attempts, about half a second); nothing is
//!   written. Settlement too: the consumer must leave the outcomes unacknowledged and retry.
//! - Standalone Redis: the scripts touch a user's keys and the global keys together, which
//!   Redis Cluster would refuse as cross-slot.

mod keys;
mod redis_side;
mod scripts;
mod touched;
mod value;

#[cfg(test)]
mod tests;

use std::time::Duration;

use async_trait::async_trait;
use contracts::ShardOutcome;

use crate::domain::ports::{
    Decision, Escrow, EscrowRequest, Holding, PendingOrder, PortfolioStore,
};
use crate::domain::records::{StockTx, WalletTx};
use keys::Scope;
use redis_side::{Lookup, RedisSide};
use value::CacheValue;

/// The default key prefix (`EXCHANGE_REDIS_PREFIX`).
pub const DEFAULT_PREFIX: &str = "exchange:";

/// Lifetimes and timeouts of the cache.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// How long a cached entry lives without being read back from the inner store.
    pub entry_ttl: Duration,
    /// How long an untouched generation token lives (an expired one is replaced by a fresh
    /// token, which invalidates the user's entries: safe, one extra miss).
    pub generation_ttl: Duration,
    /// How long a writer may stay between its two steps before readers use the cache again;
    /// must exceed the slowest inner write.
    pub pending_ttl: Duration,
    /// Per connection attempt.
    pub connect_timeout: Duration,
    /// Per command.
    pub response_timeout: Duration,
    /// Reconnect attempts before a call fails (with backoff from 100 ms).
    pub reconnect_attempts: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            entry_ttl: Duration::from_secs(300),
            generation_ttl: Duration::from_secs(24 * 3600),
            pending_ttl: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
            reconnect_attempts: 2,
        }
    }
}

/// A [`PortfolioStore`] whose balance and holdings reads are cached in Redis.
pub struct CachedPortfolio<S> {
    inner: S,
    redis: RedisSide,
}

impl<S: PortfolioStore> CachedPortfolio<S> {
    /// Connects to `redis_url` with the default settings; keys start with `prefix`.
    pub async fn connect(redis_url: &str, prefix: &str, inner: S) -> anyhow::Result<Self> {
        Self::connect_with(redis_url, prefix, CacheSettings::default(), inner).await
    }

    /// Connects with explicit settings.
    pub async fn connect_with(
        redis_url: &str,
        prefix: &str,
        settings: CacheSettings,
        inner: S,
    ) -> anyhow::Result<Self> {
        let redis = RedisSide::connect(redis_url, prefix, &settings).await?;
        Ok(Self { inner, redis })
    }

    /// A cached read of `user_id`'s `T`, falling back to `load` (the inner store).
    async fn read<T, F, Fut>(&self, user_id: u64, load: F) -> anyhow::Result<T>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let generation = match self.redis.lookup(user_id, T::ENTRY).await? {
            Lookup::Hit { generation, value } => match T::decode(&value) {
                Ok(value) => return Ok(value),
                Err(error) => {
                    tracing::warn!(user_id, error = %error, "unusable cache entry, rebuilding");
                    generation
                }
            },
            Lookup::Pending => return load().await,
            Lookup::Miss { generation } => generation,
        };
        let value = load().await?;
        let stored = self
            .redis
            .populate(user_id, T::ENTRY, &generation, &value.encode())
            .await;
        if let Err(error) = stored {
            // The value itself came from the inner store and is right; only caching failed.
            tracing::warn!(user_id, error = %error, "could not cache a read");
        }
        Ok(value)
    }

    /// Runs `write` on the inner store between the two cache steps for `scopes`.
    /// Makes every cached entry stale. A role calls it when it starts: the store may have
    /// changed while no cache-aware writer was running (a restore, a manual fix), and entries
    /// from before must not be served.
    pub async fn invalidate_all(&self) -> anyhow::Result<()> {
        self.write(vec![Scope::All], || async { Ok(()) }).await
    }

    async fn write<T, F, Fut>(&self, scopes: Vec<Scope>, write: F) -> anyhow::Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let ticket = self.redis.begin_write(scopes).await?;
        let result = write().await;
        if let Err(error) = &result {
            // The outcome is unknown: a networked store may still apply the write after
            // reporting a failure. Staying pending keeps readers on the inner store until the
            // deadline, by which time the write has landed or never will.
            tracing::warn!(error = %error, "inner write failed: its users stay uncached until the pending deadline");
            return result;
        }
        if let Err(error) = self.redis.end_write(&ticket).await {
            tracing::warn!(
                error = %error,
                "cache step 2 failed: the users' cache stays bypassed until the pending deadline"
            );
        }
        result
    }
}

#[async_trait]
impl<S: PortfolioStore> PortfolioStore for CachedPortfolio<S> {
    async fn create_stock(&self, name: String) -> Decision<u64> {
        // A new stock is in nobody's holdings yet.
        self.inner.create_stock(name).await
    }

    async fn add_shares(&self, user_id: u64, stock_id: u64, quantity: u64) -> Decision<()> {
        self.write(vec![Scope::User(user_id)], || {
            self.inner.add_shares(user_id, stock_id, quantity)
        })
        .await
    }

    async fn deposit(&self, user_id: u64, amount_cents: u64) -> Decision<()> {
        self.write(vec![Scope::User(user_id)], || {
            self.inner.deposit(user_id, amount_cents)
        })
        .await
    }

    async fn reserve(&self, request: EscrowRequest) -> Decision<Escrow> {
        self.write(vec![Scope::User(request.user_id)], || {
            self.inner.reserve(request)
        })
        .await
    }

    async fn settle(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<()> {
        let scopes = touched::users_touched(&outcomes)
            .into_iter()
            .map(Scope::User)
            .collect();
        self.write(scopes, || self.inner.settle(outcomes)).await
    }

    async fn release_orphans(&self) -> anyhow::Result<usize> {
        self.write(vec![Scope::All], || self.inner.release_orphans())
            .await
    }

    async fn pending_reservations(
        &self,
        older_than: std::time::SystemTime,
        limit: usize,
    ) -> anyhow::Result<Vec<PendingOrder>> {
        // Reservations are never cached: only the inner store knows them.
        self.inner.pending_reservations(older_than, limit).await
    }

    async fn applied_through(&self, shard: u32) -> anyhow::Result<u64> {
        self.inner.applied_through(shard).await
    }

    async fn balance(&self, user_id: u64) -> anyhow::Result<u64> {
        self.read(user_id, || self.inner.balance(user_id)).await
    }

    async fn holdings(&self, user_id: u64) -> anyhow::Result<Vec<Holding>> {
        self.read(user_id, || self.inner.holdings(user_id)).await
    }

    async fn stocks(&self) -> anyhow::Result<Vec<(u64, String)>> {
        self.inner.stocks().await
    }

    async fn stock_exists(&self, stock_id: u64) -> anyhow::Result<bool> {
        self.inner.stock_exists(stock_id).await
    }

    async fn has_reservation(&self, order_ref: u64) -> anyhow::Result<bool> {
        self.inner.has_reservation(order_ref).await
    }

    async fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        self.inner.stock_tx(stock_tx_id).await
    }

    async fn stock_txs(&self, user_id: u64) -> anyhow::Result<Vec<StockTx>> {
        self.inner.stock_txs(user_id).await
    }

    async fn wallet_txs(&self, user_id: u64) -> anyhow::Result<Vec<WalletTx>> {
        self.inner.wallet_txs(user_id).await
    }
}
