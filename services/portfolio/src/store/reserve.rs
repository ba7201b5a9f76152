//! Write paths of the setup endpoints and of escrow: check everything, then write.

use contracts::Side;
use redb::{ReadableTable, WriteTransaction};

use super::tables::{self, Reservation, counter};
use crate::domain::ports::{Escrow, EscrowRequest, Refusal};

type Step<T> = anyhow::Result<Result<T, Refusal>>;

/// Longest stock name, in bytes.
const MAX_STOCK_NAME_BYTES: usize = 256;

pub fn create_stock(txn: &WriteTransaction, name: &str) -> Step<u64> {
    if name.trim().is_empty() || name.len() > MAX_STOCK_NAME_BYTES {
        return Ok(Err(Refusal::new("stock_name must be a non-empty string")));
    }
    let mut names = txn.open_table(tables::STOCK_NAMES)?;
    if names.get(name)?.is_some() {
        return Ok(Err(Refusal::new("stock_name already exists")));
    }
    let stock_id = tables::next(txn, counter::STOCK_ID)?;
    names.insert(name, stock_id)?;
    txn.open_table(tables::STOCKS)?.insert(stock_id, name)?;
    Ok(Ok(stock_id))
}

fn stock_exists(txn: &WriteTransaction, stock_id: u64) -> anyhow::Result<bool> {
    Ok(txn.open_table(tables::STOCKS)?.get(stock_id)?.is_some())
}

pub fn add_shares(txn: &WriteTransaction, user_id: u64, stock_id: u64, quantity: u64) -> Step<()> {
    if !stock_exists(txn, stock_id)? {
        return Ok(Err(Refusal::new("unknown stock_id")));
    }
    let (available, escrowed) = tables::holding(txn, user_id, stock_id)?;
    let Some(total) = available
        .checked_add(quantity)
        .filter(|t| t.checked_add(escrowed).is_some())
    else {
        return Ok(Err(Refusal::new("quantity is too large")));
    };
    tables::put_holding(txn, user_id, stock_id, (total, escrowed))?;
    Ok(Ok(()))
}

pub fn deposit(txn: &WriteTransaction, user_id: u64, amount_cents: u64) -> Step<()> {
    let (available, escrowed) = tables::wallet(txn, user_id)?;
    let Some(total) = available
        .checked_add(amount_cents)
        .filter(|t| t.checked_add(escrowed).is_some())
    else {
        return Ok(Err(Refusal::new("amount is too large")));
    };
    tables::put_wallet(txn, user_id, (total, escrowed))?;
    Ok(Ok(()))
}

/// Moves what the order needs into escrow, or refuses without writing anything.
pub fn reserve(txn: &WriteTransaction, request: &EscrowRequest) -> Step<Escrow> {
    if !stock_exists(txn, request.stock_id)? {
        return Ok(Err(Refusal::new("unknown stock_id")));
    }
    let (cash_cents, shares) = match request.side {
        Side::Sell => match reserve_shares(txn, request)? {
            Ok(()) => (0, request.quantity),
            Err(refusal) => return Ok(Err(refusal)),
        },
        Side::Buy => match reserve_cash(txn, request)? {
            Ok(cash) => (cash, 0),
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    let order_ref = tables::next(txn, counter::STOCK_TX_ID)?;
    let reservation = Reservation {
        user_id: request.user_id,
        stock_id: request.stock_id,
        cash_cents,
        shares,
        pending: true,
    };
    tables::put_encoded(txn, tables::RESERVATIONS, order_ref, &reservation)?;
    Ok(Ok(Escrow {
        order_ref,
        cash_cents,
    }))
}

fn reserve_shares(txn: &WriteTransaction, request: &EscrowRequest) -> Step<()> {
    let (available, escrowed) = tables::holding(txn, request.user_id, request.stock_id)?;
    if available < request.quantity {
        return Ok(Err(Refusal::new("not enough shares to sell")));
    }
    let lots = (
        available - request.quantity,
        escrowed.saturating_add(request.quantity),
    );
    tables::put_holding(txn, request.user_id, request.stock_id, lots)?;
    Ok(Ok(()))
}

/// A limit buy reserves quantity × price; a market buy reserves all available cash (its cap).
fn reserve_cash(txn: &WriteTransaction, request: &EscrowRequest) -> Step<u64> {
    let (available, escrowed) = tables::wallet(txn, request.user_id)?;
    let needed = match request.limit_price_cents {
        Some(price) => {
            let notional = u128::from(price) * u128::from(request.quantity);
            match u64::try_from(notional) {
                Ok(needed) => needed,
                Err(_) => return Ok(Err(Refusal::new("insufficient funds"))),
            }
        }
        None => available,
    };
    if needed == 0 || available < needed {
        return Ok(Err(Refusal::new("insufficient funds")));
    }
    tables::put_wallet(
        txn,
        request.user_id,
        (available - needed, escrowed.saturating_add(needed)),
    )?;
    Ok(Ok(needed))
}
