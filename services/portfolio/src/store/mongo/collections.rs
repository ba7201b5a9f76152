//! The collections, their documents and their indexes.
//!
//! | collection | `_id` | other fields | indexes (besides `_id`) |
//! |---|---|---|---|
//! | `stocks` | stock id | `name` | `name` unique |
//! | `wallets` | user id | `available`, `escrowed` (cents) | |
//! | `holdings` | `"{user}:{stock}"` | `user_id`, `stock_id`, `available`, `escrowed` (lots) | `user_id` |
//! | `reservations` | order ref | `user_id`, `stock_id`, `cash_cents`, `shares`, `pending`, `reserved_at_ns` | `(pending, reserved_at_ns)` |
//! | `stock_txs` | stock tx id (an order's is its ref) | the record, `seq` | `(user_id, seq)` |
//! | `wallet_txs` | wallet tx id | the record, `user_id`, `seq`, the trade | `(user_id, seq)`; `(trade_stock_id, trade_sequence, is_debit)` unique |
//! | `client_orders` | `"{user}/{client order id}"` | `order_ref` | |
//! | `watermarks` | shard | `applied_through` | |
//! | `counters` | counter name | `last` (the last value handed out) | |
//!
//! Idempotency keys are unique indexes: an order ref, stock tx id or wallet tx id is an `_id`;
//! a client order id is an `_id` of `client_orders`; a stock name is unique; a trade is settled
//! once per side (the wallet tx index), besides the per-shard watermark that skips it first.

use mongodb::bson::{Document, doc};
use mongodb::options::{DatabaseOptions, IndexOptions, ReadConcern, WriteConcern};
use mongodb::{Client, Collection, Database, IndexModel};

/// Handles on every collection of the portfolio (cheap to clone).
#[derive(Clone)]
pub struct Collections {
    /// The client (sessions and transactions start here).
    pub client: Client,
    /// The database (write concern majority, read concern majority).
    pub database: Database,
    /// Stocks.
    pub stocks: Collection<Document>,
    /// Wallets.
    pub wallets: Collection<Document>,
    /// Holdings.
    pub holdings: Collection<Document>,
    /// Escrow of live orders.
    pub reservations: Collection<Document>,
    /// Stock transactions.
    pub stock_txs: Collection<Document>,
    /// Wallet transactions.
    pub wallet_txs: Collection<Document>,
    /// Client order ids.
    pub client_orders: Collection<Document>,
    /// Per-shard settlement watermarks.
    pub watermarks: Collection<Document>,
    /// Id counters.
    pub counters: Collection<Document>,
}

/// Collection names, as the bulk write commands need them.
pub mod name {
    /// Wallets.
    pub const WALLETS: &str = "wallets";
    /// Holdings.
    pub const HOLDINGS: &str = "holdings";
    /// Reservations.
    pub const RESERVATIONS: &str = "reservations";
    /// Stock transactions.
    pub const STOCK_TXS: &str = "stock_txs";
    /// Wallet transactions.
    pub const WALLET_TXS: &str = "wallet_txs";
    /// Watermarks.
    pub const WATERMARKS: &str = "watermarks";
}

impl Collections {
    /// The collections of database `db_name`, with majority write and read concerns.
    pub fn new(client: Client, db_name: &str) -> Self {
        let options = DatabaseOptions::builder()
            .write_concern(WriteConcern::majority())
            .read_concern(ReadConcern::majority())
            .build();
        let database = client.database_with_options(db_name, options);
        let collection = |name: &str| database.collection::<Document>(name);
        Self {
            stocks: collection("stocks"),
            wallets: collection(name::WALLETS),
            holdings: collection(name::HOLDINGS),
            reservations: collection(name::RESERVATIONS),
            stock_txs: collection(name::STOCK_TXS),
            wallet_txs: collection(name::WALLET_TXS),
            client_orders: collection("client_orders"),
            watermarks: collection(name::WATERMARKS),
            counters: collection("counters"),
            database,
            client,
        }
    }

    /// Creates every index and counter (idempotent: an existing identical index is left alone).
    pub async fn create_indexes(&self) -> anyhow::Result<()> {
        let unique = || IndexOptions::builder().unique(true).build();
        let index = |keys: Document| IndexModel::builder().keys(keys).build();
        self.stocks
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "name": 1 })
                    .options(unique())
                    .build(),
            )
            .await?;
        self.holdings
            .create_index(index(doc! { "user_id": 1 }))
            .await?;
        // The orphan queries: every pending reservation (its prefix), and the sweeper's oldest
        // pending ones (a range on the second key, bounded by a limit).
        self.reservations
            .create_index(index(doc! { "pending": 1, "reserved_at_ns": 1 }))
            .await?;
        self.stock_txs
            .create_index(index(doc! { "user_id": 1, "seq": 1 }))
            .await?;
        self.wallet_txs
            .create_index(index(doc! { "user_id": 1, "seq": 1 }))
            .await?;
        self.wallet_txs
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "trade_stock_id": 1, "trade_sequence": 1, "is_debit": 1 })
                    .options(unique())
                    .build(),
            )
            .await?;
        // Create the counters up front, so the first writers do not race to create them.
        for counter in [
            counter::STOCK_ID,
            counter::STOCK_TX_ID,
            counter::WALLET_TX_ID,
            counter::RECORD_SEQ,
        ] {
            let created = self
                .counters
                .update_one(
                    doc! { "_id": counter },
                    doc! { "$setOnInsert": { "last": 0_i64 } },
                )
                .upsert(true)
                .await
                .map_err(anyhow::Error::from);
            // Another process creating it at the same moment is as good.
            if let Err(error) = created
                && !super::txn::is_duplicate_key(&error)
            {
                return Err(error);
            }
        }
        Ok(())
    }
}

/// Counter names (documents of the counters collection).
pub mod counter {
    /// Stock ids.
    pub const STOCK_ID: &str = "next_stock_id";
    /// Stock transaction ids (order refs and children).
    pub const STOCK_TX_ID: &str = "next_stock_tx_id";
    /// Wallet transaction ids.
    pub const WALLET_TX_ID: &str = "next_wallet_tx_id";
    /// Creation sequence of records (list order).
    pub const RECORD_SEQ: &str = "next_record_seq";
}
