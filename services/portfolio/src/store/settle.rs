//! Settlement: applies shard outcomes exactly once, in sequence order per shard.
//!
//! For each trade the buyer's escrowed cash goes to the seller and the seller's escrowed shares
//! to the buyer; each side gets a wallet transaction and its record per the record rules. An
//! order that ends releases whatever escrow it still holds. The shard's watermark is written in
//! the same transaction, so a replayed outcome (after a crash) is skipped.

use contracts::{
    CommandResult, EndReason, Fill, OrderEnded, OrderType, PlaceOrder, ShardCommand, ShardOutcome,
    Side,
};
use redb::ReadableTable;

use super::tables::{self, Reservation, Tables, counter};
use crate::domain::records::{self, FillRecord, OrderStatus, RecordOrderType, StockTx, WalletTx};

/// Applies every outcome its shard's watermark does not cover yet, in order, and writes each
/// shard's new watermark once at the end (same transaction, so a replayed outcome is skipped).
pub fn apply_all(t: &mut Tables<'_>, outcomes: &[ShardOutcome]) -> anyhow::Result<()> {
    // (shard, applied through, changed): a batch holds one or a few shards.
    let mut watermarks: Vec<(u32, u64, bool)> = Vec::new();
    for outcome in outcomes {
        let index = match watermarks.iter().position(|w| w.0 == outcome.shard) {
            Some(index) => index,
            None => {
                let key = tables::applied_key(outcome.shard);
                let applied = t.meta()?.get(key.as_str())?.map_or(0, |v| v.value());
                watermarks.push((outcome.shard, applied, false));
                watermarks.len() - 1
            }
        };
        if outcome.sequence <= watermarks[index].1 {
            continue;
        }
        apply(t, outcome)?;
        watermarks[index] = (outcome.shard, outcome.sequence, true);
    }
    for (shard, applied, changed) in watermarks {
        if changed {
            t.meta()?
                .insert(tables::applied_key(shard).as_str(), applied)?;
        }
    }
    Ok(())
}

/// Applies one outcome (the caller checked the watermark).
fn apply(t: &mut Tables<'_>, outcome: &ShardOutcome) -> anyhow::Result<()> {
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
fn release_pending(t: &mut Tables<'_>, order_ref: u64) -> anyhow::Result<()> {
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
    t: &mut Tables<'_>,
    place: &PlaceOrder,
    outcome: &ShardOutcome,
) -> anyhow::Result<()> {
    let mut reservation = match t.reservation(place.order_ref)? {
        Some(reservation) => reservation,
        None => rebuild_reservation(t, place)?,
    };
    reservation.pending = false;
    t.put_reservation(place.order_ref, &reservation)?;
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

/// Escrow is reserved by a volatile commit (made durable by the next durable one). If a crash
/// lost it, no durable portfolio change came after it, so every lost reservation fits again:
/// re-reserve what the command says, and keep the id counter past its order ref.
fn rebuild_reservation(t: &mut Tables<'_>, place: &PlaceOrder) -> anyhow::Result<Reservation> {
    tracing::warn!(
        order_ref = place.order_ref,
        "rebuilding a reservation lost in a crash"
    );
    t.bump(counter::STOCK_TX_ID, place.order_ref)?;
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

fn create_order_record(t: &mut Tables<'_>, place: &PlaceOrder, time_ns: u64) -> anyhow::Result<()> {
    let (order_type, price_cents) = match place.order_type {
        OrderType::Limit { price_cents } => (RecordOrderType::Limit, Some(price_cents)),
        OrderType::Market { .. } => (RecordOrderType::Market, None),
    };
    let record = StockTx {
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
    };
    insert_stock_tx(t, &record)
}

fn insert_stock_tx(t: &mut Tables<'_>, record: &StockTx) -> anyhow::Result<()> {
    let seq = t.next(counter::RECORD_SEQ)?;
    t.put_stock_tx(record)?;
    t.user_records()?
        .insert((record.user_id, seq), (false, record.stock_tx_id))?;
    Ok(())
}

fn settle_fill(t: &mut Tables<'_>, fill: &Fill, stock_id: u64, time_ns: u64) -> anyhow::Result<()> {
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

fn take_escrow(t: &mut Tables<'_>, order_ref: u64, cash: u64, shares: u64) -> anyhow::Result<()> {
    let Some(mut reservation) = t.reservation(order_ref)? else {
        tracing::error!(order_ref, "fill of an order without a reservation");
        return Ok(());
    };
    reservation.cash_cents = reservation.cash_cents.saturating_sub(cash);
    reservation.shares = reservation.shares.saturating_sub(shares);
    t.put_reservation(order_ref, &reservation)
}

fn record_fill(
    t: &mut Tables<'_>,
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
    let wallet_tx_id = t.next(counter::WALLET_TX_ID)?;
    let child_id = t.next(counter::STOCK_TX_ID)?;
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
            insert_stock_tx(t, &child)?;
            child_id
        }
    };
    t.put_stock_tx(&order)?;
    let wallet_tx = WalletTx {
        wallet_tx_id,
        stock_tx_id: target,
        is_debit: is_buyer,
        amount_cents: cost,
        time_ns,
    };
    let seq = t.next(counter::RECORD_SEQ)?;
    t.put_wallet_tx(&wallet_tx)?;
    t.user_records()?
        .insert((order.user_id, seq), (true, wallet_tx_id))?;
    Ok(())
}

fn apply_ends(t: &mut Tables<'_>, ended: &[OrderEnded]) -> anyhow::Result<()> {
    for end in ended {
        release(t, end.order_ref)?;
        let Some(mut order) = t.stock_tx(end.order_ref)? else {
            continue;
        };
        order.status = match end.reason {
            EndReason::Filled => OrderStatus::Completed,
            EndReason::Cancelled | EndReason::Expired => OrderStatus::Cancelled,
        };
        t.put_stock_tx(&order)?;
    }
    Ok(())
}

/// Returns an order's remaining escrow to its owner and forgets the reservation.
pub fn release(t: &mut Tables<'_>, order_ref: u64) -> anyhow::Result<()> {
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
    t.remove_reservation(order_ref);
    Ok(())
}
