//! Write paths of the setup endpoints and of escrow: check everything, then write. The rules
//! are `domain::escrow`'s.

use contracts::Side;

use super::overlay::Overlay;
use super::state::Counter;
use crate::domain::escrow;
use crate::domain::ledger::{Ledger, Reservation};
use crate::domain::ports::{Escrow, EscrowRequest, Refusal};

type Step<T> = anyhow::Result<Result<T, Refusal>>;

pub fn create_stock(t: &mut Overlay<'_>, name: &str) -> Step<u64> {
    if let Err(refusal) = escrow::check_stock_name(name) {
        return Ok(Err(refusal));
    }
    if t.stock_named(name).is_some() {
        return Ok(Err(escrow::stock_name_taken()));
    }
    let stock_id = t.next(Counter::Stock)?;
    t.insert_stock(stock_id, name.to_owned());
    Ok(Ok(stock_id))
}

pub fn add_shares(t: &mut Overlay<'_>, user_id: u64, stock_id: u64, quantity: u64) -> Step<()> {
    if !t.stock_exists(stock_id) {
        return Ok(Err(escrow::unknown_stock()));
    }
    let holding = t.holding(user_id, stock_id)?;
    match escrow::add_shares(holding, quantity, u64::MAX) {
        Ok(holding) => t.put_holding(user_id, stock_id, holding).map(Ok),
        Err(refusal) => Ok(Err(refusal)),
    }
}

pub fn deposit(t: &mut Overlay<'_>, user_id: u64, amount_cents: u64) -> Step<()> {
    let wallet = t.wallet(user_id)?;
    match escrow::deposit(wallet, amount_cents, u64::MAX) {
        Ok(wallet) => t.put_wallet(user_id, wallet).map(Ok),
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// Moves what the order needs into escrow, or refuses without writing anything.
pub fn reserve(t: &mut Overlay<'_>, request: &EscrowRequest) -> Step<Escrow> {
    if let Some(client_order_id) = &request.client_order_id
        && let Some(first) = t.client_order(request.user_id, client_order_id.as_str())
    {
        return Ok(Ok(Escrow::duplicate(first)));
    }
    if !t.stock_exists(request.stock_id) {
        return Ok(Err(escrow::unknown_stock()));
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
    let order_ref = t.next(Counter::StockTx)?;
    let now_ns = super::epoch_ns(std::time::SystemTime::now());
    let reservation = Reservation::granted(request, cash_cents, shares, now_ns);
    t.put_reservation(order_ref, reservation)?;
    if let Some(client_order_id) = &request.client_order_id {
        t.insert_client_order(
            request.user_id,
            client_order_id.as_str().to_owned(),
            order_ref,
        );
    }
    Ok(Ok(Escrow::granted(order_ref, cash_cents)))
}

fn reserve_shares(t: &mut Overlay<'_>, request: &EscrowRequest) -> Step<()> {
    let holding = t.holding(request.user_id, request.stock_id)?;
    let Some(holding) = escrow::escrowed(holding, request.quantity) else {
        return Ok(Err(escrow::not_enough_shares()));
    };
    t.put_holding(request.user_id, request.stock_id, holding)?;
    Ok(Ok(()))
}

fn reserve_cash(t: &mut Overlay<'_>, request: &EscrowRequest) -> Step<u64> {
    let wallet = t.wallet(request.user_id)?;
    let needed = match request.limit_price_cents {
        Some(price) => escrow::limit_buy_cash(price, request.quantity, u64::MAX),
        None => escrow::market_buy_cash(wallet.0),
    };
    let needed = match needed {
        Ok(needed) => needed,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(wallet) = escrow::escrowed(wallet, needed) else {
        return Ok(Err(escrow::insufficient_funds()));
    };
    t.put_wallet(request.user_id, wallet)?;
    Ok(Ok(needed))
}
