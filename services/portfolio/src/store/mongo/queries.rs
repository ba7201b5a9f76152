//! Read paths: single queries with read concern majority (committed data only), each served by
//! an index (`_id`, `holdings.user_id`, `(user_id, seq)`).

use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, Cursor};

use super::codec::{self, int};
use super::collections::Collections;
use crate::domain::ports::{Holding, PendingOrder};
use crate::domain::records::{StockTx, WalletTx};

async fn collect(mut cursor: Cursor<Document>) -> anyhow::Result<Vec<Document>> {
    let mut documents = Vec::new();
    while cursor.advance().await? {
        documents.push(Document::try_from(cursor.current())?);
    }
    Ok(documents)
}

async fn by_id(collection: &Collection<Document>, id: u64) -> anyhow::Result<Option<Document>> {
    Ok(collection.find_one(doc! { "_id": int(id)? }).await?)
}

pub async fn applied_through(cols: &Collections, shard: u32) -> anyhow::Result<u64> {
    let document = cols
        .watermarks
        .find_one(doc! { "_id": i64::from(shard) })
        .await?;
    codec::uint_or_zero(document.as_ref(), "applied_through")
}

pub async fn balance(cols: &Collections, user_id: u64) -> anyhow::Result<u64> {
    let document = by_id(&cols.wallets, user_id).await?;
    codec::uint_or_zero(document.as_ref(), "available")
}

pub async fn holdings(cols: &Collections, user_id: u64) -> anyhow::Result<Vec<Holding>> {
    let cursor = cols
        .holdings
        .find(doc! { "user_id": int(user_id)?, "available": { "$gt": 0_i64 } })
        .await?;
    let lots = collect(cursor).await?;
    let mut stock_ids = Vec::with_capacity(lots.len());
    for document in &lots {
        stock_ids.push(Bson::Int64(int(codec::uint(document, "stock_id")?)?));
    }
    let names = collect(
        cols.stocks
            .find(doc! { "_id": { "$in": stock_ids } })
            .await?,
    )
    .await?;
    let mut holdings = Vec::with_capacity(lots.len());
    for document in &lots {
        let stock_id = codec::uint(document, "stock_id")?;
        let stock_name = names
            .iter()
            .find(|n| codec::uint(n, "_id").is_ok_and(|id| id == stock_id))
            .and_then(|n| n.get_str("name").ok())
            .unwrap_or_default()
            .to_owned();
        holdings.push(Holding {
            stock_id,
            stock_name,
            quantity: codec::uint(document, "available")?,
        });
    }
    holdings.sort_by(|a, b| b.stock_name.as_bytes().cmp(a.stock_name.as_bytes()));
    Ok(holdings)
}

pub async fn stocks(cols: &Collections) -> anyhow::Result<Vec<(u64, String)>> {
    let cursor = cols.stocks.find(doc! {}).sort(doc! { "_id": 1 }).await?;
    collect(cursor)
        .await?
        .iter()
        .map(|d| Ok((codec::uint(d, "_id")?, d.get_str("name")?.to_owned())))
        .collect()
}

pub async fn stock_exists(cols: &Collections, stock_id: u64) -> anyhow::Result<bool> {
    Ok(by_id(&cols.stocks, stock_id).await?.is_some())
}

pub async fn has_reservation(cols: &Collections, order_ref: u64) -> anyhow::Result<bool> {
    Ok(by_id(&cols.reservations, order_ref).await?.is_some())
}

/// The oldest pending reservations made at or before `older_than_ns`, at most `limit` (the
/// `(pending, reserved_at_ns)` index; 0 = no limit for MongoDB, so it is at least 1).
pub async fn pending_reservations(
    cols: &Collections,
    older_than_ns: u64,
    limit: usize,
) -> anyhow::Result<Vec<PendingOrder>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let cursor = cols
        .reservations
        .find(doc! { "pending": true, "reserved_at_ns": { "$lte": int(older_than_ns)? } })
        .sort(doc! { "pending": 1, "reserved_at_ns": 1 })
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .projection(doc! { "_id": 1, "user_id": 1, "stock_id": 1 })
        .await?;
    collect(cursor)
        .await?
        .iter()
        .map(|document| {
            Ok(PendingOrder {
                order_ref: codec::uint(document, "_id")?,
                user_id: codec::uint(document, "user_id")?,
                stock_id: codec::uint(document, "stock_id")?,
            })
        })
        .collect()
}

pub async fn stock_tx(cols: &Collections, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
    by_id(&cols.stock_txs, stock_tx_id)
        .await?
        .map(|d| codec::stock_tx(&d).map(|(tx, _)| tx))
        .transpose()
}

async fn user_records(
    collection: &Collection<Document>,
    user_id: u64,
) -> anyhow::Result<Vec<Document>> {
    let cursor = collection
        .find(doc! { "user_id": int(user_id)? })
        .sort(doc! { "seq": 1 })
        .await?;
    collect(cursor).await
}

pub async fn stock_txs(cols: &Collections, user_id: u64) -> anyhow::Result<Vec<StockTx>> {
    user_records(&cols.stock_txs, user_id)
        .await?
        .iter()
        .map(|d| codec::stock_tx(d).map(|(tx, _)| tx))
        .collect()
}

pub async fn wallet_txs(cols: &Collections, user_id: u64) -> anyhow::Result<Vec<WalletTx>> {
    user_records(&cols.wallet_txs, user_id)
        .await?
        .iter()
        .map(codec::wallet_tx)
        .collect()
}
