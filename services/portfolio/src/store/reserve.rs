//! Write paths of the setup endpoints and of escrow: check everything, then write.

use contracts::Side;
use redb::ReadableTable;

use super::tables::{Tables, counter};
use crate::domain::ledger::{Ledger, Reservation};
use crate::domain::ports::{Escrow, EscrowRequest, Refusal};

type Step<T> = anyhow::Result<Result<T, Refusal>>;

/// Longest stock name, in bytes.
const MAX_STOCK_NAME_BYTES: usize = 256;

pub fn create_stock(t: &mut Tables<'_>, name: &str) -> Step<u64> {
    if name.trim().is_empty() || name.len() > MAX_STOCK_NAME_BYTES {
        return Ok(Err(Refusal::new("stock_name must be a non-empty string")));
    }
    if t.stock_names()?.get(name)?.is_some() {
        return Ok(Err(Refusal::new("stock_name already exists")));
    }
    let stock_id = t.next(counter::STOCK_ID)?;
    t.stock_names()?.insert(name, stock_id)?;
    t.stocks()?.insert(stock_id, name)?;
    Ok(Ok(stock_id))
}

fn stock_exists(t: &mut Tables<'_>, stock_id: u64) -> anyhow::Result<bool> {
    Ok(t.stocks()?.get(stock_id)?.is_some())
}

pub fn add_shares(t: &mut Tables<'_>, user_id: u64, stock_id: u64, quantity: u64) -> Step<()> {
    if !stock_exists(t, stock_id)? {
        return Ok(Err(Refusal::new("unknown stock_id")));
    }
    let (available, escrowed) = t.holding(user_id, stock_id)?;
    let Some(total) = available
        .checked_add(quantity)
        .filter(|t| t.checked_add(escrowed).is_some())
    else {
        return Ok(Err(Refusal::new("quantity is too large")));
    };
    t.put_holding(user_id, stock_id, (total, escrowed))?;
    Ok(Ok(()))
}

pub fn deposit(t: &mut Tables<'_>, user_id: u64, amount_cents: u64) -> Step<()> {
    let (available, escrowed) = t.wallet(user_id)?;
    let Some(total) = available
        .checked_add(amount_cents)
        .filter(|t| t.checked_add(escrowed).is_some())
    else {
        return Ok(Err(Refusal::new("amount is too large")));
    };
    t.put_wallet(user_id, (total, escrowed))?;
    Ok(Ok(()))
}

/// Moves what the order needs into escrow, or refuses without writing anything.
pub fn reserve(t: &mut Tables<'_>, request: &EscrowRequest) -> Step<Escrow> {
    if let Some(client_order_id) = &request.client_order_id {
        let key = (request.user_id, client_order_id.as_str());
        if let Some(first) = t.client_orders()?.get(key)? {
            let order_ref = first.value();
            return Ok(Ok(Escrow {
                order_ref,
                cash_cents: 0,
                duplicate: true,
            }));
        }
    }
    if !stock_exists(t, request.stock_id)? {
        return Ok(Err(Refusal::new("unknown stock_id")));
    }
    let (cash_cents, shares) = match request.side {
        Side::Sell => match reserve_shares(t, request)? {
            Ok(()) => (0, request.quantity),
            Err(refusal) => return Ok(Err(refusal)),
        },
        Side::Buy => match reserve_cash(t, request)? {
            Ok(cash) => (cash, 0),
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    let order_ref = t.next(counter::STOCK_TX_ID)?;
    let reservation = Reservation {
        user_id: request.user_id,
        stock_id: request.stock_id,
        cash_cents,
        shares,
        pending: true,
        reserved_at_ns: super::epoch_ns(std::time::SystemTime::now()),
    };
    t.put_reservation(order_ref, reservation)?;
    if let Some(client_order_id) = &request.client_order_id {
        t.client_orders()?
            .insert((request.user_id, client_order_id.as_str()), order_ref)?;
    }
    Ok(Ok(Escrow {
        order_ref,
        cash_cents,
        duplicate: false,
    }))
}

fn reserve_shares(t: &mut Tables<'_>, request: &EscrowRequest) -> Step<()> {
    let (available, escrowed) = t.holding(request.user_id, request.stock_id)?;
    if available < request.quantity {
        return Ok(Err(Refusal::new("not enough shares to sell")));
    }
    let lots = (
        available - request.quantity,
        escrowed.saturating_add(request.quantity),
    );
    t.put_holding(request.user_id, request.stock_id, lots)?;
    Ok(Ok(()))
}

/// A limit buy reserves quantity × price; a market buy reserves all available cash (its cap).
fn reserve_cash(t: &mut Tables<'_>, request: &EscrowRequest) -> Step<u64> {
    let (available, escrowed) = t.wallet(request.user_id)?;
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
    t.put_wallet(
        request.user_id,
        (available - needed, escrowed.saturating_add(needed)),
    )?;
    Ok(Ok(needed))
}
