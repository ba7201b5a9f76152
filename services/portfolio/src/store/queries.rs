//! Read paths over the state (taken under the store's lock, so each sees one consistent state).

use super::state::State;
use crate::domain::ports::{Holding, PendingOrder};
use crate::domain::records::{StockTx, WalletTx};

pub fn holdings(state: &State, user_id: u64) -> Vec<Holding> {
    let mut holdings: Vec<Holding> = state
        .holdings
        .range((user_id, 0)..=(user_id, u64::MAX))
        .filter(|(_, lots)| lots.0 > 0)
        .map(|((_, stock_id), lots)| Holding {
            stock_id: *stock_id,
            stock_name: state.stocks.get(stock_id).cloned().unwrap_or_default(),
            quantity: lots.0,
        })
        .collect();
    holdings.sort_by(|a, b| b.stock_name.as_bytes().cmp(a.stock_name.as_bytes()));
    holdings
}

/// Pending reservations made at or before `older_than_ns`, by order ref, at most `limit`. A scan
/// of the reservations (one per live order): the embedded mode never runs the sweeper (it
/// releases orphans at start-up), so this is not on any hot path there.
pub fn pending_reservations(state: &State, older_than_ns: u64, limit: usize) -> Vec<PendingOrder> {
    state
        .reservations
        .iter()
        .filter(|(_, r)| r.pending && r.reserved_at_ns <= older_than_ns)
        .take(limit)
        .map(|(order_ref, r)| PendingOrder {
            order_ref: *order_ref,
            user_id: r.user_id,
            stock_id: r.stock_id,
        })
        .collect()
}

/// The ids of `user_id`'s records of one kind, oldest first.
fn listed(state: &State, user_id: u64, wallet_txs: bool) -> impl Iterator<Item = u64> + '_ {
    state
        .user_records
        .get(&user_id)
        .into_iter()
        .flatten()
        .filter(move |(is_wallet_tx, _)| *is_wallet_tx == wallet_txs)
        .map(|(_, id)| *id)
}

pub fn stock_txs(state: &State, user_id: u64) -> Vec<StockTx> {
    listed(state, user_id, false)
        .filter_map(|id| state.stock_txs.get(&id).cloned())
        .collect()
}

pub fn wallet_txs(state: &State, user_id: u64) -> Vec<WalletTx> {
    listed(state, user_id, true)
        .filter_map(|id| state.wallet_txs.get(&id).cloned())
        .collect()
}
