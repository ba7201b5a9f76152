//! Table definitions and the small typed accessors every write path uses.

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::records::{StockTx, WalletTx};

/// Counters and per-shard watermarks.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("portfolio_meta");
/// stock id -> name.
pub const STOCKS: TableDefinition<u64, &str> = TableDefinition::new("portfolio_stocks");
/// stock name -> id.
pub const STOCK_NAMES: TableDefinition<&str, u64> = TableDefinition::new("portfolio_stock_names");
/// user -> (available cents, escrowed cents).
pub const WALLETS: TableDefinition<u64, (u64, u64)> = TableDefinition::new("portfolio_wallets");
/// (user, stock) -> (available lots, escrowed lots).
pub const HOLDINGS: TableDefinition<(u64, u64), (u64, u64)> =
    TableDefinition::new("portfolio_holdings");
/// order ref -> postcard [`Reservation`].
pub const RESERVATIONS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("portfolio_reservations");
/// stock tx id -> postcard `StockTx`.
pub const STOCK_TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("portfolio_stock_txs");
/// (user, creation sequence) -> stock tx id.
pub const USER_STOCK_TXS: TableDefinition<(u64, u64), u64> =
    TableDefinition::new("portfolio_user_stock_txs");
/// wallet tx id -> postcard `WalletTx`.
pub const WALLET_TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("portfolio_wallet_txs");
/// (user, creation sequence) -> wallet tx id.
pub const USER_WALLET_TXS: TableDefinition<(u64, u64), u64> =
    TableDefinition::new("portfolio_user_wallet_txs");

/// (user, client order id) -> the first order's ref.
pub const CLIENT_ORDERS: TableDefinition<(u64, &str), u64> =
    TableDefinition::new("portfolio_client_orders");

/// Counter names in [`META`].
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

/// Escrow held for one order until it ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

/// Every portfolio table, opened once per job (opening a table is not free in redb).
pub struct Tables<'t> {
    pub meta: Table<'t, &'static str, u64>,
    pub stocks: Table<'t, u64, &'static str>,
    pub stock_names: Table<'t, &'static str, u64>,
    pub wallets: Table<'t, u64, (u64, u64)>,
    pub holdings: Table<'t, (u64, u64), (u64, u64)>,
    pub reservations: Table<'t, u64, &'static [u8]>,
    pub stock_txs: Table<'t, u64, &'static [u8]>,
    pub user_stock_txs: Table<'t, (u64, u64), u64>,
    pub wallet_txs: Table<'t, u64, &'static [u8]>,
    pub user_wallet_txs: Table<'t, (u64, u64), u64>,
    pub client_orders: Table<'t, (u64, &'static str), u64>,
}

impl<'t> Tables<'t> {
    /// Opens (creating if needed) every table in `txn`.
    pub fn open(txn: &'t WriteTransaction) -> anyhow::Result<Self> {
        Ok(Self {
            meta: txn.open_table(META)?,
            stocks: txn.open_table(STOCKS)?,
            stock_names: txn.open_table(STOCK_NAMES)?,
            wallets: txn.open_table(WALLETS)?,
            holdings: txn.open_table(HOLDINGS)?,
            reservations: txn.open_table(RESERVATIONS)?,
            stock_txs: txn.open_table(STOCK_TXS)?,
            user_stock_txs: txn.open_table(USER_STOCK_TXS)?,
            wallet_txs: txn.open_table(WALLET_TXS)?,
            user_wallet_txs: txn.open_table(USER_WALLET_TXS)?,
            client_orders: txn.open_table(CLIENT_ORDERS)?,
        })
    }

    /// Takes the next value of counter `name` (first value 1).
    pub fn next(&mut self, name: &str) -> anyhow::Result<u64> {
        let value = self.meta.get(name)?.map_or(1, |v| v.value());
        self.meta.insert(name, value + 1)?;
        Ok(value)
    }

    /// Makes counter `name` hand out values above `used` from now on.
    pub fn bump(&mut self, name: &str, used: u64) -> anyhow::Result<()> {
        let next = self.meta.get(name)?.map_or(1, |v| v.value());
        if next <= used {
            self.meta.insert(name, used + 1)?;
        }
        Ok(())
    }

    /// A user's wallet: (available, escrowed) cents.
    pub fn wallet(&self, user_id: u64) -> anyhow::Result<(u64, u64)> {
        Ok(self.wallets.get(user_id)?.map_or((0, 0), |v| v.value()))
    }

    /// Stores a user's wallet.
    pub fn put_wallet(&mut self, user_id: u64, wallet: (u64, u64)) -> anyhow::Result<()> {
        self.wallets.insert(user_id, wallet)?;
        Ok(())
    }

    /// A user's holding of a stock: (available, escrowed) lots.
    pub fn holding(&self, user_id: u64, stock_id: u64) -> anyhow::Result<(u64, u64)> {
        Ok(self
            .holdings
            .get((user_id, stock_id))?
            .map_or((0, 0), |v| v.value()))
    }

    /// Stores a holding.
    pub fn put_holding(
        &mut self,
        user_id: u64,
        stock_id: u64,
        lots: (u64, u64),
    ) -> anyhow::Result<()> {
        self.holdings.insert((user_id, stock_id), lots)?;
        Ok(())
    }

    /// An order's reservation.
    pub fn reservation(&self, order_ref: u64) -> anyhow::Result<Option<Reservation>> {
        self.reservations
            .get(order_ref)?
            .map(|v| decode(v.value()))
            .transpose()
    }

    /// Stores an order's reservation.
    pub fn put_reservation(
        &mut self,
        order_ref: u64,
        reservation: &Reservation,
    ) -> anyhow::Result<()> {
        self.reservations
            .insert(order_ref, postcard::to_stdvec(reservation)?.as_slice())?;
        Ok(())
    }

    /// A stock transaction.
    pub fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        self.stock_txs
            .get(stock_tx_id)?
            .map(|v| decode(v.value()))
            .transpose()
    }

    /// Stores a stock transaction.
    pub fn put_stock_tx(&mut self, record: &StockTx) -> anyhow::Result<()> {
        self.stock_txs
            .insert(record.stock_tx_id, postcard::to_stdvec(record)?.as_slice())?;
        Ok(())
    }

    /// Stores a wallet transaction.
    pub fn put_wallet_tx(&mut self, record: &WalletTx) -> anyhow::Result<()> {
        self.wallet_txs
            .insert(record.wallet_tx_id, postcard::to_stdvec(record)?.as_slice())?;
        Ok(())
    }
}

/// The watermark key of `shard`.
pub fn applied_key(shard: u32) -> String {
    format!("applied_through/{shard}")
}

/// Reads a postcard value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    Ok(postcard::from_bytes(bytes)?)
}
