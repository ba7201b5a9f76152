//! Documents <-> domain values. Every amount, quantity and id is an unsigned 64-bit integer in
//! the domain and an Int64 in BSON: writing checks it fits (`i64::try_from`), reading checks it
//! is not negative (`u64::try_from`); a value that does not fit is an error, never a wrapped or
//! rounded number. No floats anywhere.

use mongodb::bson::{Bson, Document, doc};

use crate::domain::ledger::Reservation;
use crate::domain::records::{OrderStatus, RecordOrderType, StockTx, WalletTx};

/// The largest value an Int64 holds.
pub const INT64_MAX: u64 = i64::MAX.unsigned_abs();

/// `value` as an Int64.
pub fn int(value: u64) -> anyhow::Result<i64> {
    i64::try_from(value).map_err(|_| anyhow::anyhow!("{value} does not fit in a BSON Int64"))
}

/// `value` as an Int64 or Null.
pub fn opt_int(value: Option<u64>) -> anyhow::Result<Bson> {
    Ok(match value {
        Some(value) => Bson::Int64(int(value)?),
        None => Bson::Null,
    })
}

/// The unsigned integer in `doc[key]` (Int64, or Int32 if someone wrote a small one).
pub fn uint(doc: &Document, key: &str) -> anyhow::Result<u64> {
    match doc.get(key) {
        Some(Bson::Int64(value)) => Ok(u64::try_from(*value)?),
        Some(Bson::Int32(value)) => Ok(u64::try_from(*value)?),
        other => anyhow::bail!("field {key}: expected an integer, found {other:?}"),
    }
}

/// `doc[key]` as an unsigned integer, or 0 when the field or document is missing.
pub fn uint_or_zero(doc: Option<&Document>, key: &str) -> anyhow::Result<u64> {
    doc.map_or(Ok(0), |doc| uint(doc, key))
}

/// The optional unsigned integer in `doc[key]` (Null or missing = `None`).
pub fn opt_uint(doc: &Document, key: &str) -> anyhow::Result<Option<u64>> {
    match doc.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => uint(doc, key).map(Some),
    }
}

/// The `_id` of a holding.
pub fn holding_id(user_id: u64, stock_id: u64) -> String {
    format!("{user_id}:{stock_id}")
}

/// The `_id` of a client order id record (the key has no `/`).
pub fn client_order_key(user_id: u64, client_order_id: &str) -> String {
    format!("{user_id}/{client_order_id}")
}

/// A wallet document.
pub fn wallet_doc(user_id: u64, (available, escrowed): (u64, u64)) -> anyhow::Result<Document> {
    Ok(doc! { "_id": int(user_id)?, "available": int(available)?, "escrowed": int(escrowed)? })
}

/// A holding document.
pub fn holding_doc(user_id: u64, stock_id: u64, lots: (u64, u64)) -> anyhow::Result<Document> {
    Ok(doc! {
        "_id": holding_id(user_id, stock_id),
        "user_id": int(user_id)?,
        "stock_id": int(stock_id)?,
        "available": int(lots.0)?,
        "escrowed": int(lots.1)?,
    })
}

/// (available, escrowed) of a wallet or holding document; (0, 0) when there is none.
pub fn pair(doc: Option<&Document>) -> anyhow::Result<(u64, u64)> {
    Ok((
        uint_or_zero(doc, "available")?,
        uint_or_zero(doc, "escrowed")?,
    ))
}

/// A reservation document.
pub fn reservation_doc(order_ref: u64, r: &Reservation) -> anyhow::Result<Document> {
    Ok(doc! {
        "_id": int(order_ref)?,
        "user_id": int(r.user_id)?,
        "stock_id": int(r.stock_id)?,
        "cash_cents": int(r.cash_cents)?,
        "shares": int(r.shares)?,
        "pending": r.pending,
        "reserved_at_ns": int(r.reserved_at_ns)?,
    })
}

/// A reservation from its document.
pub fn reservation(doc: &Document) -> anyhow::Result<Reservation> {
    Ok(Reservation {
        user_id: uint(doc, "user_id")?,
        stock_id: uint(doc, "stock_id")?,
        cash_cents: uint(doc, "cash_cents")?,
        shares: uint(doc, "shares")?,
        pending: doc.get_bool("pending")?,
        // Missing in documents written before the field existed.
        reserved_at_ns: opt_uint(doc, "reserved_at_ns")?.unwrap_or(0),
    })
}

/// A stock transaction document; `seq` is its creation sequence (list order).
pub fn stock_tx_doc(tx: &StockTx, seq: u64) -> anyhow::Result<Document> {
    let filled_cost = u64::try_from(tx.filled_cost_cents)?;
    Ok(doc! {
        "_id": int(tx.stock_tx_id)?,
        "parent_stock_tx_id": opt_int(tx.parent_stock_tx_id)?,
        "stock_id": int(tx.stock_id)?,
        "user_id": int(tx.user_id)?,
        "wallet_tx_id": opt_int(tx.wallet_tx_id)?,
        "status": tx.status.as_str(),
        "is_buy": tx.is_buy,
        "order_type": tx.order_type.as_str(),
        "price_cents": opt_int(tx.price_cents)?,
        "quantity": int(tx.quantity)?,
        "filled": int(tx.filled)?,
        "filled_cost_cents": int(filled_cost)?,
        "time_ns": int(tx.time_ns)?,
        "seq": int(seq)?,
    })
}

/// A stock transaction and its creation sequence from its document.
pub fn stock_tx(doc: &Document) -> anyhow::Result<(StockTx, u64)> {
    let status = match doc.get_str("status")? {
        "IN_PROGRESS" => OrderStatus::InProgress,
        "PARTIALLY_COMPLETE" => OrderStatus::PartiallyComplete,
        "COMPLETED" => OrderStatus::Completed,
        "CANCELLED" => OrderStatus::Cancelled,
        other => anyhow::bail!("unknown order status {other:?}"),
    };
    let order_type = match doc.get_str("order_type")? {
        "LIMIT" => RecordOrderType::Limit,
        "MARKET" => RecordOrderType::Market,
        other => anyhow::bail!("unknown order type {other:?}"),
    };
    let tx = StockTx {
        stock_tx_id: uint(doc, "_id")?,
        parent_stock_tx_id: opt_uint(doc, "parent_stock_tx_id")?,
        stock_id: uint(doc, "stock_id")?,
        user_id: uint(doc, "user_id")?,
        wallet_tx_id: opt_uint(doc, "wallet_tx_id")?,
        status,
        is_buy: doc.get_bool("is_buy")?,
        order_type,
        price_cents: opt_uint(doc, "price_cents")?,
        quantity: uint(doc, "quantity")?,
        filled: uint(doc, "filled")?,
        filled_cost_cents: u128::from(uint(doc, "filled_cost_cents")?),
        time_ns: uint(doc, "time_ns")?,
    };
    Ok((tx, uint(doc, "seq")?))
}

/// A wallet transaction as stored: the record, its owner, its creation sequence and the trade
/// it settles (its unique key with `is_debit`: a trade is settled once per side).
#[derive(Debug, Clone)]
pub struct StoredWalletTx {
    /// The record.
    pub tx: WalletTx,
    /// Its owner.
    pub user_id: u64,
    /// Creation sequence.
    pub seq: u64,
    /// The trade's (stock id, sequence).
    pub trade: (u64, u64),
}

/// A wallet transaction document.
pub fn wallet_tx_doc(stored: &StoredWalletTx) -> anyhow::Result<Document> {
    let tx = &stored.tx;
    Ok(doc! {
        "_id": int(tx.wallet_tx_id)?,
        "stock_tx_id": int(tx.stock_tx_id)?,
        "user_id": int(stored.user_id)?,
        "is_debit": tx.is_debit,
        "amount_cents": int(tx.amount_cents)?,
        "time_ns": int(tx.time_ns)?,
        "seq": int(stored.seq)?,
        "trade_stock_id": int(stored.trade.0)?,
        "trade_sequence": int(stored.trade.1)?,
    })
}

/// A wallet transaction from its document.
pub fn wallet_tx(doc: &Document) -> anyhow::Result<WalletTx> {
    Ok(WalletTx {
        wallet_tx_id: uint(doc, "_id")?,
        stock_tx_id: uint(doc, "stock_tx_id")?,
        is_debit: doc.get_bool("is_debit")?,
        amount_cents: uint(doc, "amount_cents")?,
        time_ns: uint(doc, "time_ns")?,
    })
}
