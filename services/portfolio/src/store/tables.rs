//! Table definitions and the small typed accessors every write path uses.

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

/// Creates every table (so read transactions never miss one).
pub fn create_all(txn: &WriteTransaction) -> anyhow::Result<()> {
    txn.open_table(META)?;
    txn.open_table(STOCKS)?;
    txn.open_table(STOCK_NAMES)?;
    txn.open_table(WALLETS)?;
    txn.open_table(HOLDINGS)?;
    txn.open_table(RESERVATIONS)?;
    txn.open_table(STOCK_TXS)?;
    txn.open_table(USER_STOCK_TXS)?;
    txn.open_table(WALLET_TXS)?;
    txn.open_table(USER_WALLET_TXS)?;
    Ok(())
}

/// Takes the next value of counter `name` (first value 1).
pub fn next(txn: &WriteTransaction, name: &str) -> anyhow::Result<u64> {
    let mut meta = txn.open_table(META)?;
    let value = meta.get(name)?.map_or(1, |v| v.value());
    meta.insert(name, value + 1)?;
    Ok(value)
}

/// Makes counter `name` hand out values above `used` from now on.
pub fn bump(txn: &WriteTransaction, name: &str, used: u64) -> anyhow::Result<()> {
    let mut meta = txn.open_table(META)?;
    let next = meta.get(name)?.map_or(1, |v| v.value());
    if next <= used {
        meta.insert(name, used + 1)?;
    }
    Ok(())
}

/// The watermark key of `shard`.
pub fn applied_key(shard: u32) -> String {
    format!("applied_through/{shard}")
}

/// A user's wallet: (available, escrowed) cents.
pub fn wallet(txn: &WriteTransaction, user_id: u64) -> anyhow::Result<(u64, u64)> {
    Ok(txn
        .open_table(WALLETS)?
        .get(user_id)?
        .map_or((0, 0), |v| v.value()))
}

/// Stores a user's wallet.
pub fn put_wallet(txn: &WriteTransaction, user_id: u64, wallet: (u64, u64)) -> anyhow::Result<()> {
    txn.open_table(WALLETS)?.insert(user_id, wallet)?;
    Ok(())
}

/// A user's holding of a stock: (available, escrowed) lots.
pub fn holding(txn: &WriteTransaction, user_id: u64, stock_id: u64) -> anyhow::Result<(u64, u64)> {
    Ok(txn
        .open_table(HOLDINGS)?
        .get((user_id, stock_id))?
        .map_or((0, 0), |v| v.value()))
}

/// Stores a holding.
pub fn put_holding(
    txn: &WriteTransaction,
    user_id: u64,
    stock_id: u64,
    lots: (u64, u64),
) -> anyhow::Result<()> {
    txn.open_table(HOLDINGS)?
        .insert((user_id, stock_id), lots)?;
    Ok(())
}

/// Reads a postcard value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    Ok(postcard::from_bytes(bytes)?)
}

/// Writes a postcard value into a `u64 -> bytes` table.
pub fn put_encoded<T: Serialize>(
    txn: &WriteTransaction,
    table: TableDefinition<u64, &[u8]>,
    key: u64,
    value: &T,
) -> anyhow::Result<()> {
    txn.open_table(table)?
        .insert(key, postcard::to_stdvec(value)?.as_slice())?;
    Ok(())
}

/// Reads a postcard value from a `u64 -> bytes` table.
pub fn get_decoded<T: DeserializeOwned>(
    txn: &WriteTransaction,
    table: TableDefinition<u64, &[u8]>,
    key: u64,
) -> anyhow::Result<Option<T>> {
    let table = txn.open_table(table)?;
    let value = table.get(key)?;
    value.map(|v| decode(v.value())).transpose()
}
