//! Write paths of the setup endpoints and of escrow, each one transaction: check everything,
//! then write; a refusal aborts the transaction (nothing written). The rules and refusal texts
//! are `domain::escrow`'s, with the largest balance an Int64; the escrow check itself is the
//! filter of one conditional update (no read first), see [`move_to_escrow`].

use contracts::Side;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{ClientSession, Collection};

use super::codec::{self, int};
use super::collections::Collections;
use super::collections::counter;
use super::txn;
use crate::domain::escrow;
use crate::domain::ledger::{Balance, Reservation};
use crate::domain::ports::{Decision, Escrow, EscrowRequest, Refusal};

/// Context of [`create_stock`].
pub struct NewStock {
    /// The collections.
    pub cols: Collections,
    /// The stock's name.
    pub name: String,
}

/// Creates a stock, refusing a duplicate name.
pub async fn create_stock(session: &mut ClientSession, c: &NewStock) -> Decision<u64> {
    if let Err(refusal) = escrow::check_stock_name(&c.name) {
        return Ok(Err(refusal));
    }
    let taken = c
        .cols
        .stocks
        .find_one(doc! { "name": c.name.as_str() })
        .session(&mut *session)
        .await?;
    if taken.is_some() {
        return Ok(Err(escrow::stock_name_taken()));
    }
    let stock_id = txn::take_ids(&c.cols, counter::STOCK_ID, 1).await?;
    let inserted = c
        .cols
        .stocks
        .insert_one(doc! { "_id": int(stock_id)?, "name": c.name.as_str() })
        .session(&mut *session)
        .await;
    match inserted {
        Ok(_) => Ok(Ok(stock_id)),
        Err(error) => {
            let error = anyhow::Error::from(error);
            if txn::is_duplicate_key(&error) {
                return Ok(Err(escrow::stock_name_taken()));
            }
            Err(error)
        }
    }
}

/// True when the stock exists (read in the transaction).
async fn stock_exists(
    session: &mut ClientSession,
    cols: &Collections,
    stock_id: u64,
) -> anyhow::Result<bool> {
    let stock = cols
        .stocks
        .find_one(doc! { "_id": int(stock_id)? })
        .session(&mut *session)
        .await?;
    Ok(stock.is_some())
}

/// Context of [`add_shares`] and [`deposit`].
pub struct Credit {
    /// The collections.
    pub cols: Collections,
    /// The user.
    pub user_id: u64,
    /// The stock (shares only).
    pub stock_id: u64,
    /// Lots or cents.
    pub amount: u64,
}

/// Adds shares of an existing stock to a user's holding.
pub async fn add_shares(session: &mut ClientSession, c: &Credit) -> Decision<()> {
    if !stock_exists(session, &c.cols, c.stock_id).await? {
        return Ok(Err(escrow::unknown_stock()));
    }
    let id = Bson::String(codec::holding_id(c.user_id, c.stock_id));
    credit(
        session,
        &c.cols.holdings,
        id,
        |holding| escrow::add_shares(holding, c.amount, codec::INT64_MAX),
        |holding| codec::holding_doc(c.user_id, c.stock_id, holding),
    )
    .await
}

/// Adds cash to a user's wallet.
pub async fn deposit(session: &mut ClientSession, c: &Credit) -> Decision<()> {
    credit(
        session,
        &c.cols.wallets,
        Bson::Int64(int(c.user_id)?),
        |wallet| escrow::deposit(wallet, c.amount, codec::INT64_MAX),
        |wallet| codec::wallet_doc(c.user_id, wallet),
    )
    .await
}

/// Reads the wallet or holding `id` of `collection`, applies `rule` and writes the result as
/// `document` makes it (read and write in the transaction, so no update is lost).
async fn credit(
    session: &mut ClientSession,
    collection: &Collection<Document>,
    id: Bson,
    rule: impl FnOnce(Balance) -> Result<Balance, Refusal> + Send,
    document: impl FnOnce(Balance) -> anyhow::Result<Document> + Send,
) -> Decision<()> {
    let current = collection
        .find_one(doc! { "_id": id.clone() })
        .session(&mut *session)
        .await?;
    let balance = match rule(codec::pair(current.as_ref())?) {
        Ok(balance) => balance,
        Err(refusal) => return Ok(Err(refusal)),
    };
    collection
        .replace_one(doc! { "_id": id }, document(balance)?)
        .upsert(true)
        .session(&mut *session)
        .await?;
    Ok(Ok(()))
}

/// Context of [`reserve`].
pub struct Reserve {
    /// The collections.
    pub cols: Collections,
    /// The request.
    pub request: EscrowRequest,
    /// The stock is known to exist (stocks are never deleted).
    pub stock_known: bool,
}

/// Moves what the order needs into escrow and allocates its id, or refuses (nothing written).
pub async fn reserve(session: &mut ClientSession, c: &Reserve) -> Decision<Escrow> {
    let request = &c.request;
    let client_key = request
        .client_order_id
        .as_ref()
        .map(|key| codec::client_order_key(request.user_id, key.as_str()));
    if let Some(key) = &client_key {
        let first = c
            .cols
            .client_orders
            .find_one(doc! { "_id": key.as_str() })
            .session(&mut *session)
            .await?;
        if let Some(first) = first {
            return Ok(Ok(Escrow::duplicate(codec::uint(&first, "order_ref")?)));
        }
    }
    if !c.stock_known && !stock_exists(session, &c.cols, request.stock_id).await? {
        return Ok(Err(escrow::unknown_stock()));
    }
    let (cash_cents, shares) = match request.side {
        Side::Sell => match reserve_shares(session, c).await? {
            Ok(()) => (0, request.quantity),
            Err(refusal) => return Ok(Err(refusal)),
        },
        Side::Buy => match reserve_cash(session, c).await? {
            Ok(cash) => (cash, 0),
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    let order_ref = txn::take_ids(&c.cols, counter::STOCK_TX_ID, 1).await?;
    let now_ns = super::super::epoch_ns(std::time::SystemTime::now());
    let reservation = Reservation::granted(request, cash_cents, shares, now_ns);
    c.cols
        .reservations
        .insert_one(codec::reservation_doc(order_ref, &reservation)?)
        .session(&mut *session)
        .await?;
    if let Some(key) = client_key {
        c.cols
            .client_orders
            .insert_one(doc! { "_id": key, "order_ref": int(order_ref)? })
            .session(&mut *session)
            .await?;
    }
    Ok(Ok(Escrow::granted(order_ref, cash_cents)))
}

/// Escrows the shares with one conditional update (no read): matched only if enough are
/// available.
async fn reserve_shares(session: &mut ClientSession, c: &Reserve) -> Decision<()> {
    let request = &c.request;
    let Ok(quantity) = i64::try_from(request.quantity) else {
        return Ok(Err(escrow::not_enough_shares()));
    };
    let id = Bson::String(codec::holding_id(request.user_id, request.stock_id));
    if !move_to_escrow(session, &c.cols.holdings, id, quantity).await? {
        return Ok(Err(escrow::not_enough_shares()));
    }
    Ok(Ok(()))
}

/// A limit buy escrows quantity × price (one conditional update); a market buy escrows all
/// available cash, its cap (read, then write in the same transaction).
async fn reserve_cash(session: &mut ClientSession, c: &Reserve) -> Decision<u64> {
    let request = &c.request;
    let id = Bson::Int64(int(request.user_id)?);
    let needed = match request.limit_price_cents {
        Some(price) => escrow::limit_buy_cash(price, request.quantity, codec::INT64_MAX),
        None => {
            let wallet = c
                .cols
                .wallets
                .find_one(doc! { "_id": id.clone() })
                .session(&mut *session)
                .await?;
            escrow::market_buy_cash(codec::pair(wallet.as_ref())?.0)
        }
    };
    let needed = match needed {
        Ok(needed) => needed,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if !move_to_escrow(session, &c.cols.wallets, id, int(needed)?).await? {
        return Ok(Err(escrow::insufficient_funds()));
    }
    Ok(Ok(needed))
}

/// Moves `amount` of the wallet or holding `id` from available into escrow, the rule of
/// `escrow::escrowed` as one conditional update: false (nothing changed) when not that much
/// is available.
async fn move_to_escrow(
    session: &mut ClientSession,
    collection: &Collection<Document>,
    id: Bson,
    amount: i64,
) -> anyhow::Result<bool> {
    let updated = collection
        .update_one(
            doc! { "_id": id, "available": { "$gte": amount } },
            doc! { "$inc": { "available": -amount, "escrowed": amount } },
        )
        .session(&mut *session)
        .await?;
    Ok(updated.matched_count > 0)
}
