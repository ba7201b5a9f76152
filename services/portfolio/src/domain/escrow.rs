//! The rules of the setup endpoints and of escrow, as pure functions on balances: what is
//! refused (with the client's text), what a credit or an order's escrow makes of a balance.
//! Both stores apply them; each reads and writes in its own way (embedded: read, decide, write in
//! one job; MongoDB: the escrow check is the filter of one conditional update, see
//! `store/mongo/reserve.rs`).

use super::ledger::{Balance, Reservation};
use super::ports::{Escrow, EscrowRequest, Refusal};

/// Longest stock name, in bytes.
pub const MAX_STOCK_NAME_BYTES: usize = 256;

/// A stock name must be non-blank and at most [`MAX_STOCK_NAME_BYTES`].
pub fn check_stock_name(name: &str) -> Result<(), Refusal> {
    if name.trim().is_empty() || name.len() > MAX_STOCK_NAME_BYTES {
        return Err(Refusal::new("stock_name must be a non-empty string"));
    }
    Ok(())
}

/// A stock with this name exists.
pub fn stock_name_taken() -> Refusal {
    Refusal::new("stock_name already exists")
}

/// No stock has this id.
pub fn unknown_stock() -> Refusal {
    Refusal::new("unknown stock_id")
}

/// A sell of more shares than are available.
pub fn not_enough_shares() -> Refusal {
    Refusal::new("not enough shares to sell")
}

/// A buy of more than the available cash (or of nothing).
pub fn insufficient_funds() -> Refusal {
    Refusal::new("insufficient funds")
}

/// `balance` with `amount` more available, if available plus escrowed stays at most
/// `max_total` (the largest number the store keeps).
fn credited(balance: Balance, amount: u64, max_total: u64) -> Option<Balance> {
    let (available, escrowed) = balance;
    let available = available.checked_add(amount)?;
    let total = available.checked_add(escrowed)?;
    (total <= max_total).then_some((available, escrowed))
}

/// A holding after `addStockToUser` of `quantity` lots.
pub fn add_shares(holding: Balance, quantity: u64, max_total: u64) -> Result<Balance, Refusal> {
    credited(holding, quantity, max_total).ok_or_else(|| Refusal::new("quantity is too large"))
}

/// A wallet after a deposit of `amount_cents`.
pub fn deposit(wallet: Balance, amount_cents: u64, max_total: u64) -> Result<Balance, Refusal> {
    credited(wallet, amount_cents, max_total).ok_or_else(|| Refusal::new("amount is too large"))
}

/// The cash a limit buy escrows: quantity × price, refused when nothing or more than
/// `max_amount`.
pub fn limit_buy_cash(price_cents: u64, quantity: u64, max_amount: u64) -> Result<u64, Refusal> {
    let notional = u128::from(price_cents) * u128::from(quantity);
    u64::try_from(notional)
        .ok()
        .filter(|needed| (1..=max_amount).contains(needed))
        .ok_or_else(insufficient_funds)
}

/// The cash a market buy escrows: all `available` cash (its spend cap); refused when none.
pub fn market_buy_cash(available: u64) -> Result<u64, Refusal> {
    if available == 0 {
        return Err(insufficient_funds());
    }
    Ok(available)
}

/// `balance` with `amount` moved from available into escrow; `None` when not that much is
/// available.
pub fn escrowed(balance: Balance, amount: u64) -> Option<Balance> {
    let (available, escrowed) = balance;
    Some((
        available.checked_sub(amount)?,
        escrowed.saturating_add(amount),
    ))
}

impl Reservation {
    /// The reservation of a granted request: `cash_cents` or `shares` escrowed at `at_ns`,
    /// pending until a shard outcome of the order is applied.
    pub fn granted(request: &EscrowRequest, cash_cents: u64, shares: u64, at_ns: u64) -> Self {
        Self {
            user_id: request.user_id,
            stock_id: request.stock_id,
            cash_cents,
            shares,
            pending: true,
            reserved_at_ns: at_ns,
        }
    }
}

impl Escrow {
    /// A new order `order_ref` with `cash_cents` escrowed.
    pub fn granted(order_ref: u64, cash_cents: u64) -> Self {
        Self {
            order_ref,
            cash_cents,
            duplicate: false,
        }
    }

    /// The answer to a repeated client order id: its first order, nothing reserved now.
    pub fn duplicate(order_ref: u64) -> Self {
        Self {
            order_ref,
            cash_cents: 0,
            duplicate: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_stop_at_the_stores_largest_total() {
        assert_eq!(deposit((5, 3), 2, 10), Ok((7, 3)));
        assert_eq!(
            deposit((5, 3), 2, 9),
            Err(Refusal::new("amount is too large"))
        );
        assert!(add_shares((u64::MAX, 0), 1, u64::MAX).is_err());
    }

    #[test]
    fn buys_escrow_their_notional_or_all_cash_and_never_nothing() {
        assert_eq!(limit_buy_cash(150, 4, u64::MAX), Ok(600));
        assert_eq!(limit_buy_cash(150, 4, 599), Err(insufficient_funds()));
        assert_eq!(limit_buy_cash(0, 4, u64::MAX), Err(insufficient_funds()));
        assert_eq!(
            limit_buy_cash(u64::MAX, 2, u64::MAX),
            Err(insufficient_funds())
        );
        assert_eq!(market_buy_cash(0), Err(insufficient_funds()));
        assert_eq!(escrowed((10, 1), 4), Some((6, 5)));
        assert_eq!(escrowed((3, 1), 4), None);
    }
}
