//! Settlement: applies shard outcomes exactly once, in sequence order per shard, to a
//! [`Ledger`] (both stores run these rules; see [`super::ledger`] for the adapters).
//!
//! For each trade the buyer's escrowed cash goes to the seller and the seller's escrowed shares
//! to the buyer; each side gets a wallet transaction and its record per the record rules. An
//! order that ends releases whatever escrow it still holds. The shard's watermark is written in
//! the same job, so a replayed outcome (after a crash or a redelivery) is skipped.

use std::collections::BTreeSet;

use contracts::{
    CommandResult, EndReason, Fill, OrderEnded, OrderType, PlaceOrder, ShardCommand, ShardOutcome,
    Side,
};

use super::ledger::{IdKind, Ledger, Reservation};
use super::records::{self, FillRecord, OrderStatus, RecordOrderType, StockTx, WalletTx};

/// What settling a batch reads, as far as the outcomes alone tell: a store that loads a batch's
/// state up front loads these, then [`Touched::add_owner`] for each reservation found (releasing
/// one touches its owner's balances). Kept next to the rules because it must name everything
/// they read.
#[derive(Debug, Default)]
pub struct Touched {
    /// Orders (reservations and stock records).
    pub refs: BTreeSet<u64>,
    /// Wallets.
    pub users: BTreeSet<u64>,
    /// Holdings: (user, stock).
    pub holdings: BTreeSet<(u64, u64)>,
    /// Watermarks.
    pub shards: BTreeSet<u32>,
}

impl Touched {
    /// What settling `outcomes` touches, before the reservations are known.
    pub fn by(outcomes: &[ShardOutcome]) -> Self {
        let mut touched = Self::default();
        for outcome in outcomes {
            touched.shards.insert(outcome.shard);
            for end in &outcome.ended {
                touched.refs.insert(end.order_ref);
            }
            if let ShardCommand::Expire(expire) = &outcome.command {
                // Its reservation, whose owner's balances `add_owner` adds.
                touched.refs.insert(expire.order_ref);
            }
            let ShardCommand::Place(place) = &outcome.command else {
                continue;
            };
            touched.refs.insert(place.order_ref);
            touched.users.insert(place.user_id);
            touched.holdings.insert((place.user_id, place.stock_id));
            for fill in &outcome.fills {
                touched.refs.extend([fill.buyer_ref, fill.seller_ref]);
                touched.users.extend([fill.buyer_user, fill.seller_user]);
                touched.holdings.insert((fill.buyer_user, place.stock_id));
                touched.holdings.insert((fill.seller_user, place.stock_id));
            }
        }
        touched
    }

    /// Adds the balances releasing `reservation` touches.
    pub fn add_owner(&mut self, reservation: &Reservation) {
        self.users.insert(reservation.user_id);
        self.holdings
            .insert((reservation.user_id, reservation.stock_id));
    }
}

/// Applies every outcome its shard's watermark does not cover yet, in order, and advances the
/// watermarks.
pub fn apply_all(t: &mut dyn Ledger, outcomes: &[ShardOutcome]) -> anyhow::Result<()> {
    for outcome in outcomes {
        if outcome.sequence <= t.watermark(outcome.shard)? {
            continue;
        }
        apply(t, outcome)?;
        t.put_watermark(outcome.shard, outcome.sequence)?;
    }
    Ok(())
}

/// Applies one outcome (the caller checked the watermark).
fn apply(t: &mut dyn Ledger, outcome: &ShardOutcome) -> anyhow::Result<()> {
    match (&outcome.command, &outcome.result) {
        (ShardCommand::Place(place), CommandResult::Accepted) => apply_place(t, place, outcome),
        (ShardCommand::Place(place), CommandResult::Rejected { .. }) => release(t, place.order_ref),
        (ShardCommand::Cancel(_), _) => apply_ends(t, &outcome.ended),
        (ShardCommand::Expire(expire), CommandResult::Accepted) => {
            release_pending(t, expire.order_ref)
        }
        // The shard had sequenced the order: its own outcome settles it.
        (ShardCommand::Expire(_), CommandResult::Rejected { .. }) => Ok(()),
    }
}

/// An accepted expire: the order was never placed and never will be, so its reservation, if
/// still pending, goes back to its owner. Nothing when it is gone (released already) or no
/// longer pending (an outcome of the order was settled: not the case for an order its shard
/// never sequenced, so that is logged).
fn release_pending(t: &mut dyn Ledger, order_ref: u64) -> anyhow::Result<()> {
    match t.reservation(order_ref)? {
        Some(reservation) if reservation.pending => release(t, order_ref),
        Some(_) => {
            tracing::error!(
                order_ref,
                "an expire was accepted for an order whose outcome was settled; escrow kept"
            );
            Ok(())
        }
        None => Ok(()),
    }
}

fn apply_place(
    t: &mut dyn Ledger,
    place: &PlaceOrder,
    outcome: &ShardOutcome,
) -> anyhow::Result<()> {
    let mut reservation = match t.reservation(place.order_ref)? {
        Some(reservation) => reservation,
        None => rebuild_reservation(t, place)?,
    };
    reservation.pending = false;
    t.put_reservation(place.order_ref, reservation)?;
    let died_unfilled = outcome.fills.is_empty()
        && outcome
            .ended
            .iter()
            .any(|e| e.order_ref == place.order_ref && e.filled == 0);
    if !died_unfilled {
        create_order_record(t, place, outcome.timestamp_ns)?;
    }
    for fill in &outcome.fills {
        settle_fill(t, fill, place.stock_id, outcome.timestamp_ns)?;
    }
    apply_ends(t, &outcome.ended)
}

/// A reservation the store does not have: re-reserve what the command says, as far as the
/// balances allow, and keep the id counter past its order ref. Both stores make a reservation
/// durable before it is answered (so before its order is routed): this covers data written by
/// an earlier version, whose embedded store reserved by a volatile commit that a crash could
/// lose (no durable change came after it, so it fits again).
fn rebuild_reservation(t: &mut dyn Ledger, place: &PlaceOrder) -> anyhow::Result<Reservation> {
    tracing::warn!(
        order_ref = place.order_ref,
        "rebuilding a missing reservation (lost in a crash)"
    );
    t.keep_stock_tx_ids_above(place.order_ref)?;
    let (mut cash_cents, mut shares) = match (place.side, place.order_type) {
        (Side::Sell, _) => (0, place.quantity),
        (Side::Buy, OrderType::Market { quote_cap_cents }) => (quote_cap_cents.unwrap_or(0), 0),
        (Side::Buy, OrderType::Limit { price_cents }) => {
            let notional = u128::from(price_cents) * u128::from(place.quantity);
            (u64::try_from(notional).unwrap_or(u64::MAX), 0)
        }
    };
    let (cash, escrowed_cash) = t.wallet(place.user_id)?;
    cash_cents = cash_cents.min(cash);
    t.put_wallet(
        place.user_id,
        (cash - cash_cents, escrowed_cash.saturating_add(cash_cents)),
    )?;
    let (lots, escrowed_lots) = t.holding(place.user_id, place.stock_id)?;
    shares = shares.min(lots);
    t.put_holding(
        place.user_id,
        place.stock_id,
        (lots - shares, escrowed_lots.saturating_add(shares)),
    )?;
    Ok(Reservation {
        user_id: place.user_id,
        stock_id: place.stock_id,
        cash_cents,
        shares,
        pending: false,
        reserved_at_ns: 0,
    })
}

fn create_order_record(t: &mut dyn Ledger, place: &PlaceOrder, time_ns: u64) -> anyhow::Result<()> {
    let (order_type, price_cents) = match place.order_type {
        OrderType::Limit { price_cents } => (RecordOrderType::Limit, Some(price_cents)),
        OrderType::Market { .. } => (RecordOrderType::Market, None),
    };
    t.insert_stock_tx(StockTx {
        stock_tx_id: place.order_ref,
        parent_stock_tx_id: None,
        stock_id: place.stock_id,
        user_id: place.user_id,
        wallet_tx_id: None,
        status: OrderStatus::InProgress,
        is_buy: place.side == Side::Buy,
        order_type,
        price_cents,
        quantity: place.quantity,
        filled: 0,
        filled_cost_cents: 0,
        time_ns,
    })
}

fn settle_fill(t: &mut dyn Ledger, fill: &Fill, stock_id: u64, time_ns: u64) -> anyhow::Result<()> {
    let cost = u64::try_from(u128::from(fill.price_cents) * u128::from(fill.quantity))?;
    take_escrow(t, fill.buyer_ref, cost, 0)?;
    take_escrow(t, fill.seller_ref, 0, fill.quantity)?;
    let (cash, escrowed_cash) = t.wallet(fill.buyer_user)?;
    t.put_wallet(fill.buyer_user, (cash, escrowed_cash.saturating_sub(cost)))?;
    let (cash, escrowed_cash) = t.wallet(fill.seller_user)?;
    t.put_wallet(fill.seller_user, (cash.saturating_add(cost), escrowed_cash))?;
    let (lots, escrowed_lots) = t.holding(fill.seller_user, stock_id)?;
    t.put_holding(
        fill.seller_user,
        stock_id,
        (lots, escrowed_lots.saturating_sub(fill.quantity)),
    )?;
    let (lots, escrowed_lots) = t.holding(fill.buyer_user, stock_id)?;
    t.put_holding(
        fill.buyer_user,
        stock_id,
        (lots.saturating_add(fill.quantity), escrowed_lots),
    )?;
    record_fill(t, fill.buyer_ref, fill, cost, true, time_ns)?;
    record_fill(t, fill.seller_ref, fill, cost, false, time_ns)
}

fn take_escrow(t: &mut dyn Ledger, order_ref: u64, cash: u64, shares: u64) -> anyhow::Result<()> {
    let Some(mut reservation) = t.reservation(order_ref)? else {
        tracing::error!(order_ref, "fill of an order without a reservation");
        return Ok(());
    };
    reservation.cash_cents = reservation.cash_cents.saturating_sub(cash);
    reservation.shares = reservation.shares.saturating_sub(shares);
    t.put_reservation(order_ref, reservation)
}

fn record_fill(
    t: &mut dyn Ledger,
    order_ref: u64,
    fill: &Fill,
    cost: u64,
    is_buyer: bool,
    time_ns: u64,
) -> anyhow::Result<()> {
    let Some(mut order) = t.stock_tx(order_ref)? else {
        tracing::error!(order_ref, "fill of an order without a record");
        return Ok(());
    };
    let wallet_tx_id = t.next_id(IdKind::WalletTx)?;
    let child_id = t.next_id(IdKind::StockTx)?;
    let target = match records::apply_fill(
        &mut order,
        fill.price_cents,
        fill.quantity,
        wallet_tx_id,
        child_id,
        time_ns,
    ) {
        FillRecord::OnOrder => order_ref,
        FillRecord::Child(child) => {
            t.insert_stock_tx(child)?;
            child_id
        }
    };
    let user_id = order.user_id;
    t.put_stock_tx(order)?;
    let wallet_tx = WalletTx {
        wallet_tx_id,
        stock_tx_id: target,
        is_debit: is_buyer,
        amount_cents: cost,
        time_ns,
    };
    t.insert_wallet_tx(wallet_tx, user_id, fill.trade_id)
}

fn apply_ends(t: &mut dyn Ledger, ended: &[OrderEnded]) -> anyhow::Result<()> {
    for end in ended {
        release(t, end.order_ref)?;
        let Some(mut order) = t.stock_tx(end.order_ref)? else {
            continue;
        };
        order.status = match end.reason {
            EndReason::Filled => OrderStatus::Completed,
            EndReason::Cancelled | EndReason::Expired => OrderStatus::Cancelled,
        };
        t.put_stock_tx(order)?;
    }
    Ok(())
}

/// Returns an order's remaining escrow to its owner and forgets the reservation.
pub fn release(t: &mut dyn Ledger, order_ref: u64) -> anyhow::Result<()> {
    let Some(reservation) = t.reservation(order_ref)? else {
        return Ok(());
    };
    let user = reservation.user_id;
    if reservation.cash_cents > 0 {
        let (cash, escrowed) = t.wallet(user)?;
        let back = reservation.cash_cents.min(escrowed);
        t.put_wallet(user, (cash.saturating_add(back), escrowed - back))?;
    }
    if reservation.shares > 0 {
        let (lots, escrowed) = t.holding(user, reservation.stock_id)?;
        let back = reservation.shares.min(escrowed);
        t.put_holding(
            user,
            reservation.stock_id,
            (lots.saturating_add(back), escrowed - back),
        )?;
    }
    t.remove_reservation(order_ref)
}
