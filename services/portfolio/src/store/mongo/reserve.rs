//! Write paths of the setup endpoints and of escrow, each one transaction: check everything,
//! then write; a refusal aborts the transaction (nothing written). The rules and refusal texts
//! are the embedded store's (`store/reserve.rs`).

use contracts::Side;
use mongodb::ClientSession;
use mongodb::bson::doc;

use super::super::tables::counter;
use super::codec::{self, int};
use super::collections::Collections;
use super::txn;
use crate::domain::ledger::Reservation;
use crate::domain::ports::{Decision, Escrow, EscrowRequest, Refusal};

/// Longest stock name, in bytes.
const MAX_STOCK_NAME_BYTES: usize = 256;

/// The largest balance BSON can hold (Int64).
fn fits(value: u64) -> bool {
    i64::try_from(value).is_ok()
}

/// Context of [`create_stock`].
pub struct NewStock {
    /// The collections.
    pub cols: Collections,
    /// The stock's name.
    pub name: String,
}

/// Creates a stock, refusing a duplicate name.
pub async fn create_stock(session: &mut ClientSession, c: &NewStock) -> Decision<u64> {
    if c.name.trim().is_empty() || c.name.len() > MAX_STOCK_NAME_BYTES {
        return Ok(Err(Refusal::new("stock_name must be a non-empty string")));
    }
    let taken = c
        .cols
        .stocks
        .find_one(doc! { "name": c.name.as_str() })
        .session(&mut *session)
        .await?;
    if taken.is_some() {
        return Ok(Err(Refusal::new("stock_name already exists")));
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
                return Ok(Err(Refusal::new("stock_name already exists")));
            }
            Err(error)
        }
    }
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
    let stock = c
        .cols
        .stocks
        .find_one(doc! { "_id": int(c.stock_id)? })
        .session(&mut *session)
        .await?;
    if stock.is_none() {
        return Ok(Err(Refusal::new("unknown stock_id")));
    }
    let id = codec::holding_id(c.user_id, c.stock_id);
    let current = c
        .cols
        .holdings
        .find_one(doc! { "_id": id.as_str() })
        .session(&mut *session)
        .await?;
    let (available, escrowed) = codec::pair(current.as_ref())?;
    let Some(total) = available
        .checked_add(c.amount)
        .filter(|t| t.checked_add(escrowed).is_some_and(fits))
    else {
        return Ok(Err(Refusal::new("quantity is too large")));
    };
    let document = codec::holding_doc(c.user_id, c.stock_id, (total, escrowed))?;
    c.cols
        .holdings
        .replace_one(doc! { "_id": id.as_str() }, document)
        .upsert(true)
        .session(&mut *session)
        .await?;
    Ok(Ok(()))
}

/// Adds cash to a user's wallet.
pub async fn deposit(session: &mut ClientSession, c: &Credit) -> Decision<()> {
    let id = int(c.user_id)?;
    let current = c
        .cols
        .wallets
        .find_one(doc! { "_id": id })
        .session(&mut *session)
        .await?;
    let (available, escrowed) = codec::pair(current.as_ref())?;
    let Some(total) = available
        .checked_add(c.amount)
        .filter(|t| t.checked_add(escrowed).is_some_and(fits))
    else {
        return Ok(Err(Refusal::new("amount is too large")));
    };
    c.cols
        .wallets
        .replace_one(
            doc! { "_id": id },
            codec::wallet_doc(c.user_id, (total, escrowed))?,
        )
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
            return Ok(Ok(Escrow {
                order_ref: codec::uint(&first, "order_ref")?,
                cash_cents: 0,
                duplicate: true,
            }));
        }
    }
    if !c.stock_known {
        let stock = c
            .cols
            .stocks
            .find_one(doc! { "_id": int(request.stock_id)? })
            .session(&mut *session)
            .await?;
        if stock.is_none() {
            return Ok(Err(Refusal::new("unknown stock_id")));
        }
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
    let reservation = Reservation {
        user_id: request.user_id,
        stock_id: request.stock_id,
        cash_cents,
        shares,
        pending: true,
        reserved_at_ns: super::super::epoch_ns(std::time::SystemTime::now()),
    };
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
    Ok(Ok(Escrow {
        order_ref,
        cash_cents,
        duplicate: false,
    }))
}

/// Escrows the shares with one conditional update (no read): matched only if enough are
/// available.
async fn reserve_shares(session: &mut ClientSession, c: &Reserve) -> Decision<()> {
    let request = &c.request;
    let quantity = match i64::try_from(request.quantity) {
        Ok(quantity) => quantity,
        Err(_) => return Ok(Err(Refusal::new("not enough shares to sell"))),
    };
    let id = codec::holding_id(request.user_id, request.stock_id);
    let updated = c
        .cols
        .holdings
        .update_one(
            doc! { "_id": id, "available": { "$gte": quantity } },
            doc! { "$inc": { "available": -quantity, "escrowed": quantity } },
        )
        .session(&mut *session)
        .await?;
    if updated.matched_count == 0 {
        return Ok(Err(Refusal::new("not enough shares to sell")));
    }
    Ok(Ok(()))
}

/// A limit buy escrows quantity × price (one conditional update); a market buy escrows all
/// available cash, its cap (read, then write in the same transaction).
async fn reserve_cash(session: &mut ClientSession, c: &Reserve) -> Decision<u64> {
    let request = &c.request;
    let id = int(request.user_id)?;
    let insufficient = || Ok(Err(Refusal::new("insufficient funds")));
    let needed = match request.limit_price_cents {
        Some(price) => {
            let notional = u128::from(price) * u128::from(request.quantity);
            match u64::try_from(notional).ok().filter(|n| fits(*n)) {
                Some(needed) => needed,
                None => return insufficient(),
            }
        }
        None => {
            let wallet = c
                .cols
                .wallets
                .find_one(doc! { "_id": id })
                .session(&mut *session)
                .await?;
            codec::pair(wallet.as_ref())?.0
        }
    };
    if needed == 0 {
        return insufficient();
    }
    let amount = int(needed)?;
    let updated = c
        .cols
        .wallets
        .update_one(
            doc! { "_id": id, "available": { "$gte": amount } },
            doc! { "$inc": { "available": -amount, "escrowed": amount } },
        )
        .session(&mut *session)
        .await?;
    if updated.matched_count == 0 {
        return insufficient();
    }
    Ok(Ok(needed))
}
