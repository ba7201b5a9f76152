//! The ledger port: the state the settlement rules ([`super::settlement`]) read and change,
//! one value at a time. Two adapters implement it: the overlay of one job over the embedded
//! in-memory state (`store/overlay.rs`), and the in-memory working set of one MongoDB settlement batch (loaded
//! up front, written back in one bulk command per collection,
//! `store/mongo/working_set.rs`). So the rules exist once and both stores run them.
//!
//! Contract: reads see this job's own writes; nothing is durable until the adapter's job
//! commits (a failed job writes nothing). `Err` is an outage or a bug (for the working set:
//! a value the batch did not load), never a business refusal.

use contracts::TradeId;
use serde::{Deserialize, Serialize};

use super::records::{StockTx, WalletTx};

/// Cash of a wallet in cents, or lots of a holding: `(available, escrowed)`.
pub type Balance = (u64, u64);

/// Escrow held for one order until it ends.
///
/// The embedded store journals it as postcard bytes: the fields and their order are its layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The owner.
    pub user_id: u64,
    /// The stock.
    pub stock_id: u64,
    /// Cash still reserved.
    pub cash_cents: u64,
    /// Shares still reserved.
    pub shares: u64,
    /// True until a shard outcome for the order was applied.
    pub pending: bool,
    /// When the reservation was made (nanoseconds since the epoch, the reserving process's
    /// clock; 0 when unknown: rebuilt from an outcome, or written before this field existed).
    /// The orphan sweeper expires pending reservations older than its age.
    pub reserved_at_ns: u64,
}

/// The ids the settlement rules hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Stock transaction ids (order refs and fill records).
    StockTx,
    /// Wallet transaction ids.
    WalletTx,
}

/// The portfolio state one job reads and writes.
pub trait Ledger {
    /// The last outcome sequence of `shard` applied (0 before any).
    fn watermark(&mut self, shard: u32) -> anyhow::Result<u64>;
    /// Records that `shard`'s outcomes through `applied` are applied.
    fn put_watermark(&mut self, shard: u32, applied: u64) -> anyhow::Result<()>;

    /// A user's wallet ((0, 0) when there is none).
    fn wallet(&mut self, user_id: u64) -> anyhow::Result<Balance>;
    /// Stores a user's wallet.
    fn put_wallet(&mut self, user_id: u64, wallet: Balance) -> anyhow::Result<()>;
    /// A user's holding of a stock ((0, 0) when there is none).
    fn holding(&mut self, user_id: u64, stock_id: u64) -> anyhow::Result<Balance>;
    /// Stores a holding.
    fn put_holding(&mut self, user_id: u64, stock_id: u64, lots: Balance) -> anyhow::Result<()>;

    /// An order's reservation, if it still has one.
    fn reservation(&mut self, order_ref: u64) -> anyhow::Result<Option<Reservation>>;
    /// Stores an order's reservation.
    fn put_reservation(&mut self, order_ref: u64, reservation: Reservation) -> anyhow::Result<()>;
    /// Forgets an order's reservation.
    fn remove_reservation(&mut self, order_ref: u64) -> anyhow::Result<()>;

    /// A stock transaction (an order or a fill record).
    fn stock_tx(&mut self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>>;
    /// Creates a stock transaction; it is listed after every record created before it.
    fn insert_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()>;
    /// Updates an existing stock transaction (its place in the lists is kept).
    fn put_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()>;
    /// Creates `user_id`'s wallet transaction for one side of `trade` (a store may use the
    /// trade as an idempotency key); it is listed after every record created before it.
    fn insert_wallet_tx(
        &mut self,
        record: WalletTx,
        user_id: u64,
        trade: TradeId,
    ) -> anyhow::Result<()>;

    /// A new id of `kind`, above every id of that kind handed out before.
    fn next_id(&mut self, kind: IdKind) -> anyhow::Result<u64>;
    /// Stock transaction ids handed out from now on stay above `used` (an id a lost
    /// reservation had taken).
    fn keep_stock_tx_ids_above(&mut self, used: u64) -> anyhow::Result<()>;
}
