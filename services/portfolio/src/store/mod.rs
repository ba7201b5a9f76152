//! The embedded portfolio store (redb) behind [`PortfolioStore`]. Writes go through the group
//! committer (one durable commit per batch); reads use read transactions (committed data only).
//! The distributed store is [`mongo`].

pub mod mongo;
mod queries;
mod reserve;
mod tables;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use contracts::ShardOutcome;
use platform::group_commit::GroupCommitter;
use redb::ReadableTable;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::ports::{
    Decision, Escrow, EscrowRequest, Holding, PendingOrder, PortfolioStore,
};
use crate::domain::records::{StockTx, WalletTx};
use crate::domain::settlement;
use tables::Tables;

/// The portfolio in redb.
pub struct RedbPortfolio {
    committer: GroupCommitter,
}

impl RedbPortfolio {
    /// Creates the tables if needed.
    pub fn open(committer: GroupCommitter) -> anyhow::Result<Self> {
        let txn = committer.database().begin_write()?;
        Tables::create_all(&txn)?;
        txn.commit()?;
        Ok(Self { committer })
    }
}

#[async_trait]
impl PortfolioStore for RedbPortfolio {
    async fn create_stock(&self, name: String) -> Decision<u64> {
        self.committer
            .run(move |txn| Tables::job(txn, |t| reserve::create_stock(t, &name)))
            .await
    }

    async fn add_shares(&self, user_id: u64, stock_id: u64, quantity: u64) -> Decision<()> {
        self.committer
            .run(move |txn| {
                Tables::job(txn, |t| reserve::add_shares(t, user_id, stock_id, quantity))
            })
            .await
    }

    async fn deposit(&self, user_id: u64, amount_cents: u64) -> Decision<()> {
        self.committer
            .run(move |txn| Tables::job(txn, |t| reserve::deposit(t, user_id, amount_cents)))
            .await
    }

    async fn reserve(&self, request: EscrowRequest) -> Decision<Escrow> {
        let job =
            move |txn: &redb::WriteTransaction| Tables::job(txn, |t| reserve::reserve(t, &request));
        if request.client_order_id.is_some() {
            // Durable: the idempotency key must survive a crash before the order is routed.
            self.committer.run(job).await
        } else {
            // Volatile: a lost reservation is rebuilt from the shard's outcome (settlement).
            self.committer.run_volatile(job).await
        }
    }

    async fn settle(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<()> {
        self.committer
            .run(move |txn| Tables::job(txn, |t| settlement::apply_all(t, &outcomes)))
            .await
    }

    async fn release_orphans(&self) -> anyhow::Result<usize> {
        self.committer
            .run(|txn| {
                Tables::job(txn, |t| {
                    let mut orphans = Vec::new();
                    for entry in t.reservations()?.iter()? {
                        let (order_ref, bytes) = entry?;
                        if tables::decode_reservation(bytes.value())?.pending {
                            orphans.push(order_ref.value());
                        }
                    }
                    orphans
                        .iter()
                        .try_for_each(|order_ref| settlement::release(t, *order_ref))?;
                    Ok(orphans.len())
                })
            })
            .await
    }

    async fn pending_reservations(
        &self,
        older_than: SystemTime,
        limit: usize,
    ) -> anyhow::Result<Vec<PendingOrder>> {
        queries::pending_reservations(self.committer.database(), epoch_ns(older_than), limit)
    }

    async fn applied_through(&self, shard: u32) -> anyhow::Result<u64> {
        queries::applied_through(self.committer.database(), shard)
    }

    async fn balance(&self, user_id: u64) -> anyhow::Result<u64> {
        queries::balance(self.committer.database(), user_id)
    }

    async fn holdings(&self, user_id: u64) -> anyhow::Result<Vec<Holding>> {
        queries::holdings(self.committer.database(), user_id)
    }

    async fn stocks(&self) -> anyhow::Result<Vec<(u64, String)>> {
        queries::stocks(self.committer.database())
    }

    async fn stock_exists(&self, stock_id: u64) -> anyhow::Result<bool> {
        queries::stock_exists(self.committer.database(), stock_id)
    }

    async fn has_reservation(&self, order_ref: u64) -> anyhow::Result<bool> {
        queries::has_reservation(self.committer.database(), order_ref)
    }

    async fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        queries::stock_tx(self.committer.database(), stock_tx_id)
    }

    async fn stock_txs(&self, user_id: u64) -> anyhow::Result<Vec<StockTx>> {
        queries::stock_txs(self.committer.database(), user_id)
    }

    async fn wallet_txs(&self, user_id: u64) -> anyhow::Result<Vec<WalletTx>> {
        queries::wallet_txs(self.committer.database(), user_id)
    }
}

/// `at` in nanoseconds since the epoch (0 before it, the largest `u64` past year 2554): how
/// reservations record when they were made.
pub(crate) fn epoch_ns(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    })
}

/// A store on redb's in-memory backend (tests and throwaway runs); nothing survives the process.
pub fn in_memory() -> anyhow::Result<RedbPortfolio> {
    let database =
        redb::Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
    let committer = GroupCommitter::start(std::sync::Arc::new(database), "portfolio-memory")?;
    RedbPortfolio::open(committer)
}

/// A store on redb's in-memory backend, for tests.
#[cfg(test)]
pub(crate) fn test_store() -> RedbPortfolio {
    in_memory().unwrap_or_else(|e| panic!("in-memory store: {e}"))
}
