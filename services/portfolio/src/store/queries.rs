//! Read paths: one read transaction each, committed data only.

use redb::{Database, ReadableDatabase, ReadableTable};

use super::tables;
use crate::domain::ports::{Holding, PendingOrder};
use crate::domain::records::{StockTx, WalletTx};

pub fn applied_through(db: &Database, shard: u32) -> anyhow::Result<u64> {
    let txn = db.begin_read()?;
    let meta = txn.open_table(tables::META)?;
    Ok(meta
        .get(tables::applied_key(shard).as_str())?
        .map_or(0, |v| v.value()))
}

pub fn balance(db: &Database, user_id: u64) -> anyhow::Result<u64> {
    let txn = db.begin_read()?;
    Ok(txn
        .open_table(tables::WALLETS)?
        .get(user_id)?
        .map_or(0, |v| v.value().0))
}

pub fn holdings(db: &Database, user_id: u64) -> anyhow::Result<Vec<Holding>> {
    let txn = db.begin_read()?;
    let stocks = txn.open_table(tables::STOCKS)?;
    let mut holdings = Vec::new();
    for entry in txn
        .open_table(tables::HOLDINGS)?
        .range((user_id, 0)..=(user_id, u64::MAX))?
    {
        let (key, lots) = entry?;
        let (_, stock_id) = key.value();
        let quantity = lots.value().0;
        if quantity == 0 {
            continue;
        }
        let stock_name = stocks
            .get(stock_id)?
            .map(|n| n.value().to_owned())
            .unwrap_or_default();
        holdings.push(Holding {
            stock_id,
            stock_name,
            quantity,
        });
    }
    holdings.sort_by(|a, b| b.stock_name.as_bytes().cmp(a.stock_name.as_bytes()));
    Ok(holdings)
}

pub fn stocks(db: &Database) -> anyhow::Result<Vec<(u64, String)>> {
    let txn = db.begin_read()?;
    let table = txn.open_table(tables::STOCKS)?;
    let mut stocks = Vec::new();
    for entry in table.iter()? {
        let (id, name) = entry?;
        stocks.push((id.value(), name.value().to_owned()));
    }
    Ok(stocks)
}

pub fn stock_exists(db: &Database, stock_id: u64) -> anyhow::Result<bool> {
    let txn = db.begin_read()?;
    Ok(txn.open_table(tables::STOCKS)?.get(stock_id)?.is_some())
}

pub fn has_reservation(db: &Database, order_ref: u64) -> anyhow::Result<bool> {
    let txn = db.begin_read()?;
    Ok(txn
        .open_table(tables::RESERVATIONS)?
        .get(order_ref)?
        .is_some())
}

/// Pending reservations made at or before `older_than_ns`, by order ref, at most `limit`. A scan
/// of the reservations (one per live order): the embedded mode never runs the sweeper (it
/// releases orphans at start-up), so this is not on any hot path there.
pub fn pending_reservations(
    db: &Database,
    older_than_ns: u64,
    limit: usize,
) -> anyhow::Result<Vec<PendingOrder>> {
    let txn = db.begin_read()?;
    let mut found = Vec::new();
    for entry in txn.open_table(tables::RESERVATIONS)?.iter()? {
        if found.len() >= limit {
            break;
        }
        let (order_ref, bytes) = entry?;
        let reservation = tables::decode_reservation(bytes.value())?;
        if reservation.pending && reservation.reserved_at_ns <= older_than_ns {
            found.push(PendingOrder {
                order_ref: order_ref.value(),
                user_id: reservation.user_id,
                stock_id: reservation.stock_id,
            });
        }
    }
    Ok(found)
}

pub fn stock_tx(db: &Database, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
    let txn = db.begin_read()?;
    let table = txn.open_table(tables::STOCK_TXS)?;
    let value = table.get(stock_tx_id)?;
    value.map(|v| tables::decode(v.value())).transpose()
}

pub fn stock_txs(db: &Database, user_id: u64) -> anyhow::Result<Vec<StockTx>> {
    let txn = db.begin_read()?;
    let records = txn.open_table(tables::STOCK_TXS)?;
    let mut list = Vec::new();
    for entry in txn
        .open_table(tables::USER_RECORDS)?
        .range((user_id, 0)..=(user_id, u64::MAX))?
    {
        let (is_wallet_tx, id) = entry?.1.value();
        if is_wallet_tx {
            continue;
        }
        if let Some(bytes) = records.get(id)? {
            list.push(tables::decode(bytes.value())?);
        }
    }
    Ok(list)
}

pub fn wallet_txs(db: &Database, user_id: u64) -> anyhow::Result<Vec<WalletTx>> {
    let txn = db.begin_read()?;
    let records = txn.open_table(tables::WALLET_TXS)?;
    let mut list = Vec::new();
    for entry in txn
        .open_table(tables::USER_RECORDS)?
        .range((user_id, 0)..=(user_id, u64::MAX))?
    {
        let (is_wallet_tx, id) = entry?.1.value();
        if !is_wallet_tx {
            continue;
        }
        if let Some(bytes) = records.get(id)? {
            list.push(tables::decode(bytes.value())?);
        }
    }
    Ok(list)
}
