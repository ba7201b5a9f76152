//! The inner store of the cache tests: the throwaway in-memory store, plus read counting and gates that
//! pause a call at a chosen point until the test lets it go (channels, no sleeps).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use contracts::ShardOutcome;
use tokio::sync::{Mutex, mpsc};

use crate::domain::ports::{Decision, Escrow, EscrowRequest, Holding, PortfolioStore};
use crate::domain::records::{StockTx, WalletTx};
use crate::store::JournalPortfolio;

/// One pause point. Armed, the next call that passes it stops, announces itself, and waits
/// for [`Gate::release`]; unarmed, it passes straight through.
pub(super) struct Gate {
    armed: AtomicBool,
    arrived_tx: mpsc::UnboundedSender<()>,
    arrived_rx: Mutex<mpsc::UnboundedReceiver<()>>,
    release_tx: mpsc::UnboundedSender<()>,
    release_rx: Mutex<mpsc::UnboundedReceiver<()>>,
}

impl Default for Gate {
    fn default() -> Self {
        let (arrived_tx, arrived_rx) = mpsc::unbounded_channel();
        let (release_tx, release_rx) = mpsc::unbounded_channel();
        Self {
            armed: AtomicBool::new(false),
            arrived_tx,
            arrived_rx: Mutex::new(arrived_rx),
            release_tx,
            release_rx: Mutex::new(release_rx),
        }
    }
}

impl Gate {
    /// The next call through this gate will stop there.
    pub(super) fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Waits until a call stopped at the gate.
    pub(super) async fn arrival(&self) {
        self.arrived_rx.lock().await.recv().await;
    }

    /// Lets the stopped call go on.
    pub(super) fn release(&self) {
        let _ = self.release_tx.send(());
    }

    async fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            let _ = self.arrived_tx.send(());
            self.release_rx.lock().await.recv().await;
        }
    }
}

/// Where the inner store can pause, and its read counter.
#[derive(Default)]
pub(super) struct Gates {
    /// In `deposit`, before the inner write (the cache's step 1 is done).
    pub(super) before_write: Gate,
    /// In `deposit`, after the inner write committed (the cache's step 2 is not done).
    pub(super) after_write: Gate,
    /// In `balance`, after the inner read (the cache has not populated yet).
    pub(super) after_read: Gate,
    /// Balance and holdings reads that reached the inner store.
    pub(super) inner_reads: AtomicUsize,
    /// The next `deposit` is applied but reported as failed (a store timing out after the
    /// write landed).
    pub(super) fail_after_deposit: AtomicBool,
}

/// The store behind the gates.
pub(super) struct TestInner {
    store: Arc<JournalPortfolio>,
    gates: Arc<Gates>,
}

impl TestInner {
    pub(super) fn new(store: Arc<JournalPortfolio>, gates: Arc<Gates>) -> Self {
        Self { store, gates }
    }
}

#[async_trait]
impl PortfolioStore for TestInner {
    async fn create_stock(&self, name: String) -> Decision<u64> {
        self.store.create_stock(name).await
    }

    async fn add_shares(&self, user_id: u64, stock_id: u64, quantity: u64) -> Decision<()> {
        self.store.add_shares(user_id, stock_id, quantity).await
    }

    async fn deposit(&self, user_id: u64, amount_cents: u64) -> Decision<()> {
        self.gates.before_write.pass().await;
        let result = self.store.deposit(user_id, amount_cents).await;
        self.gates.after_write.pass().await;
        if self.gates.fail_after_deposit.swap(false, Ordering::SeqCst) {
            anyhow::bail!("write concern timed out");
        }
        result
    }

    async fn reserve(&self, request: EscrowRequest) -> Decision<Escrow> {
        self.store.reserve(request).await
    }

    async fn settle(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<()> {
        self.store.settle(outcomes).await
    }

    async fn release_orphans(&self) -> anyhow::Result<usize> {
        self.store.release_orphans().await
    }

    async fn pending_reservations(
        &self,
        older_than: std::time::SystemTime,
        limit: usize,
    ) -> anyhow::Result<Vec<crate::domain::ports::PendingOrder>> {
        self.store.pending_reservations(older_than, limit).await
    }

    async fn applied_through(&self, shard: u32) -> anyhow::Result<u64> {
        self.store.applied_through(shard).await
    }

    async fn balance(&self, user_id: u64) -> anyhow::Result<u64> {
        self.gates.inner_reads.fetch_add(1, Ordering::SeqCst);
        let balance = self.store.balance(user_id).await;
        self.gates.after_read.pass().await;
        balance
    }

    async fn holdings(&self, user_id: u64) -> anyhow::Result<Vec<Holding>> {
        self.gates.inner_reads.fetch_add(1, Ordering::SeqCst);
        self.store.holdings(user_id).await
    }

    async fn stocks(&self) -> anyhow::Result<Vec<(u64, String)>> {
        self.store.stocks().await
    }

    async fn stock_exists(&self, stock_id: u64) -> anyhow::Result<bool> {
        self.store.stock_exists(stock_id).await
    }

    async fn has_reservation(&self, order_ref: u64) -> anyhow::Result<bool> {
        self.store.has_reservation(order_ref).await
    }

    async fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        self.store.stock_tx(stock_tx_id).await
    }

    async fn stock_txs(&self, user_id: u64) -> anyhow::Result<Vec<StockTx>> {
        self.store.stock_txs(user_id).await
    }

    async fn wallet_txs(&self, user_id: u64) -> anyhow::Result<Vec<WalletTx>> {
        self.store.wallet_txs(user_id).await
    }
}
