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
use redb::{ReadableTable, WriteTransaction};

use super::tables::{self, Reservation, counter};
use crate::domain::records::{self, FillRecord, OrderStatus, RecordOrderType, StockTx, WalletTx};

/// Applies `outcome` unless its shard's watermark already covers it.
pub fn apply(txn: &WriteTransaction, outcome: &ShardOutcome) -> anyhow::Result<()> {
    let key = tables::applied_key(outcome.shard);
    let applied = txn
        .open_table(tables::META)?
        .get(key.as_str())?
        .map_or(0, |v| v.value());
    if outcome.sequence <= applied {
        return Ok(());
    }
    match (&outcome.command, &outcome.result) {
        (ShardCommand::Place(place), CommandResult::Accepted) => apply_place(txn, place, outcome)?,
        (ShardCommand::Place(place), CommandResult::Rejected { .. }) => {
            release(txn, place.order_ref)?
        }
        (ShardCommand::Cancel(_), _) => apply_ends(txn, &outcome.ended)?,
    }
    txn.open_table(tables::META)?
        .insert(key.as_str(), outcome.sequence)?;
    Ok(())
}

fn apply_place(
    txn: &WriteTransaction,
    place: &PlaceOrder,
    outcome: &ShardOutcome,
) -> anyhow::Result<()> {
    let mut reservation =
        match tables::get_decoded::<Reservation>(txn, tables::RESERVATIONS, place.order_ref)? {
            Some(reservation) => reservation,
            None => rebuild_reservation(txn, place)?,
        };
    reservation.pending = false;
    tables::put_encoded(txn, tables::RESERVATIONS, place.order_ref, &reservation)?;
    let died_unfilled = outcome.fills.is_empty()
        && outcome
            .ended
            .iter()
            .any(|e| e.order_ref == place.order_ref && e.filled == 0);
    if !died_unfilled {
        create_order_record(txn, place, outcome.timestamp_ns)?;
    }
    for fill in &outcome.fills {
        settle_fill(txn, fill, place.stock_id, outcome.timestamp_ns)?;
    }
    apply_ends(txn, &outcome.ended)
}

/// Escrow is reserved by a volatile commit (made durable by the next durable one). If a crash
/// lost it, no durable portfolio change came after it, so every lost reservation fits again:
/// re-reserve what the command says, and keep the id counter past its order ref.
fn rebuild_reservation(txn: &WriteTransaction, place: &PlaceOrder) -> anyhow::Result<Reservation> {
    tracing::warn!(
        order_ref = place.order_ref,
        "rebuilding a reservation lost in a crash"
    );
    tables::bump(txn, counter::STOCK_TX_ID, place.order_ref)?;
    let (mut cash_cents, mut shares) = match (place.side, place.order_type) {
        (Side::Sell, _) => (0, place.quantity),
        (Side::Buy, OrderType::Market { quote_cap_cents }) => (quote_cap_cents.unwrap_or(0), 0),
        (Side::Buy, OrderType::Limit { price_cents }) => {
            let notional = u128::from(price_cents) * u128::from(place.quantity);
            (u64::try_from(notional).unwrap_or(u64::MAX), 0)
        }
    };
    let (cash, escrowed_cash) = tables::wallet(txn, place.user_id)?;
    cash_cents = cash_cents.min(cash);
    tables::put_wallet(
        txn,
        place.user_id,
        (cash - cash_cents, escrowed_cash.saturating_add(cash_cents)),
    )?;
    let (lots, escrowed_lots) = tables::holding(txn, place.user_id, place.stock_id)?;
    shares = shares.min(lots);
    tables::put_holding(
        txn,
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
    })
}

fn create_order_record(
    txn: &WriteTransaction,
    place: &PlaceOrder,
    time_ns: u64,
) -> anyhow::Result<()> {
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
    insert_stock_tx(txn, &record)
}

fn insert_stock_tx(txn: &WriteTransaction, record: &StockTx) -> anyhow::Result<()> {
    let seq = tables::next(txn, counter::RECORD_SEQ)?;
    tables::put_encoded(txn, tables::STOCK_TXS, record.stock_tx_id, record)?;
    txn.open_table(tables::USER_STOCK_TXS)?
        .insert((record.user_id, seq), record.stock_tx_id)?;
    Ok(())
}

fn settle_fill(
    txn: &WriteTransaction,
    fill: &Fill,
    stock_id: u64,
    time_ns: u64,
) -> anyhow::Result<()> {
    let cost = u64::try_from(u128::from(fill.price_cents) * u128::from(fill.quantity))?;
    take_escrow(txn, fill.buyer_ref, cost, 0)?;
    take_escrow(txn, fill.seller_ref, 0, fill.quantity)?;
    let (cash, escrowed_cash) = tables::wallet(txn, fill.buyer_user)?;
    tables::put_wallet(
        txn,
        fill.buyer_user,
        (cash, escrowed_cash.saturating_sub(cost)),
    )?;
    let (cash, escrowed_cash) = tables::wallet(txn, fill.seller_user)?;
    tables::put_wallet(
        txn,
        fill.seller_user,
        (cash.saturating_add(cost), escrowed_cash),
    )?;
    let (lots, escrowed_lots) = tables::holding(txn, fill.seller_user, stock_id)?;
    tables::put_holding(
        txn,
        fill.seller_user,
        stock_id,
        (lots, escrowed_lots.saturating_sub(fill.quantity)),
    )?;
    let (lots, escrowed_lots) = tables::holding(txn, fill.buyer_user, stock_id)?;
    tables::put_holding(
        txn,
        fill.buyer_user,
        stock_id,
        (lots.saturating_add(fill.quantity), escrowed_lots),
    )?;
    record_fill(txn, fill.buyer_ref, fill, cost, true, time_ns)?;
    record_fill(txn, fill.seller_ref, fill, cost, false, time_ns)
}

fn take_escrow(
    txn: &WriteTransaction,
    order_ref: u64,
    cash: u64,
    shares: u64,
) -> anyhow::Result<()> {
    let Some(mut reservation) =
        tables::get_decoded::<Reservation>(txn, tables::RESERVATIONS, order_ref)?
    else {
        tracing::error!(order_ref, "fill of an order without a reservation");
        return Ok(());
    };
    reservation.cash_cents = reservation.cash_cents.saturating_sub(cash);
    reservation.shares = reservation.shares.saturating_sub(shares);
    tables::put_encoded(txn, tables::RESERVATIONS, order_ref, &reservation)
}

fn record_fill(
    txn: &WriteTransaction,
    order_ref: u64,
    fill: &Fill,
    cost: u64,
    is_buyer: bool,
    time_ns: u64,
) -> anyhow::Result<()> {
    let Some(mut order) = tables::get_decoded::<StockTx>(txn, tables::STOCK_TXS, order_ref)? else {
        tracing::error!(order_ref, "fill of an order without a record");
        return Ok(());
    };
    let wallet_tx_id = tables::next(txn, counter::WALLET_TX_ID)?;
    let child_id = tables::next(txn, counter::STOCK_TX_ID)?;
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
            insert_stock_tx(txn, &child)?;
            child_id
        }
    };
    tables::put_encoded(txn, tables::STOCK_TXS, order_ref, &order)?;
    let wallet_tx = WalletTx {
        wallet_tx_id,
        stock_tx_id: target,
        is_debit: is_buyer,
        amount_cents: cost,
        time_ns,
    };
    let seq = tables::next(txn, counter::RECORD_SEQ)?;
    tables::put_encoded(txn, tables::WALLET_TXS, wallet_tx_id, &wallet_tx)?;
    txn.open_table(tables::USER_WALLET_TXS)?
        .insert((order.user_id, seq), wallet_tx_id)?;
    Ok(())
}

fn apply_ends(txn: &WriteTransaction, ended: &[OrderEnded]) -> anyhow::Result<()> {
    for end in ended {
        release(txn, end.order_ref)?;
        let Some(mut order) =
            tables::get_decoded::<StockTx>(txn, tables::STOCK_TXS, end.order_ref)?
        else {
            continue;
        };
        order.status = match end.reason {
            EndReason::Filled => OrderStatus::Completed,
            EndReason::Cancelled | EndReason::Expired => OrderStatus::Cancelled,
        };
        tables::put_encoded(txn, tables::STOCK_TXS, end.order_ref, &order)?;
    }
    Ok(())
}

/// Returns an order's remaining escrow to its owner and forgets the reservation.
pub fn release(txn: &WriteTransaction, order_ref: u64) -> anyhow::Result<()> {
    let Some(reservation) =
        tables::get_decoded::<Reservation>(txn, tables::RESERVATIONS, order_ref)?
    else {
        return Ok(());
    };
    let user = reservation.user_id;
    if reservation.cash_cents > 0 {
        let (cash, escrowed) = tables::wallet(txn, user)?;
        let back = reservation.cash_cents.min(escrowed);
        tables::put_wallet(txn, user, (cash.saturating_add(back), escrowed - back))?;
    }
    if reservation.shares > 0 {
        let (lots, escrowed) = tables::holding(txn, user, reservation.stock_id)?;
        let back = reservation.shares.min(escrowed);
        tables::put_holding(
            txn,
            user,
            reservation.stock_id,
            (lots.saturating_add(back), escrowed - back),
        )?;
    }
    txn.open_table(tables::RESERVATIONS)?.remove(order_ref)?;
    Ok(())
}
