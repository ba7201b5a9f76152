//! Stop and stop-limit orders waiting for the last trade price to reach their trigger.
//!
//! A buy stop triggers when the last trade price is at or above its stop price, a sell stop when
//! it is at or below. Orders triggered by the same price move are released in order id (arrival)
//! order, so a cascade is deterministic.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::types::{NewOrder, OrderId, Price, Quantity, Side, UserId};

/// A stop order not yet triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct WaitingStop {
    /// As placed.
    pub order: NewOrder,
    /// As placed, less reductions.
    pub remaining: Quantity,
}

/// The waiting stops of one book.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stops {
    buys: BTreeMap<(Price, OrderId), WaitingStop>,
    sells: BTreeMap<(Price, OrderId), WaitingStop>,
    // Point lookups only: iteration order of this map never reaches output.
    index: FxHashMap<OrderId, (Side, Price)>,
}

/// Whether a stop on `side` at `stop` is reached by the last trade price `last`.
pub(crate) fn is_reached(side: Side, stop: Price, last: Option<Price>) -> bool {
    match (side, last) {
        (_, None) => false,
        (Side::Buy, Some(last)) => last >= stop,
        (Side::Sell, Some(last)) => last <= stop,
    }
}

impl Stops {
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn map(&mut self, side: Side) -> &mut BTreeMap<(Price, OrderId), WaitingStop> {
        match side {
            Side::Buy => &mut self.buys,
            Side::Sell => &mut self.sells,
        }
    }

    /// Parks a stop order (its `stop_price` must be set).
    pub fn insert(&mut self, stop: WaitingStop) {
        let Some(price) = stop.order.stop_price else {
            return;
        };
        let (side, id) = (stop.order.side, stop.order.order_id);
        self.map(side).insert((price, id), stop);
        self.index.insert(id, (side, price));
    }

    pub fn get(&self, id: OrderId) -> Option<&WaitingStop> {
        let (side, price) = self.index.get(&id)?;
        match side {
            Side::Buy => self.buys.get(&(*price, id)),
            Side::Sell => self.sells.get(&(*price, id)),
        }
    }

    pub fn remove(&mut self, id: OrderId) -> Option<WaitingStop> {
        let (side, price) = self.index.remove(&id)?;
        self.map(side).remove(&(price, id))
    }

    /// Takes `by` lots off a waiting stop (less than its remainder: the caller removes it instead).
    pub fn reduce(&mut self, id: OrderId, by: u64) {
        let Some((side, price)) = self.index.get(&id).copied() else {
            return;
        };
        if let Some(stop) = self.map(side).get_mut(&(price, id)) {
            stop.remaining.0 = stop.remaining.0.saturating_sub(by);
        }
    }

    /// Removes every stop reached by `last` and appends them to `into` in order id order.
    pub fn take_triggered(&mut self, last: Price, into: &mut Vec<WaitingStop>) {
        let start = into.len();
        while let Some(entry) = self.buys.first_entry() {
            if entry.key().0 > last {
                break;
            }
            into.push(entry.remove());
        }
        while let Some(entry) = self.sells.last_entry() {
            if entry.key().0 < last {
                break;
            }
            into.push(entry.remove());
        }
        for stop in &into[start..] {
            self.index.remove(&stop.order.order_id);
        }
        into[start..].sort_unstable_by_key(|stop| stop.order.order_id);
    }

    /// Every waiting stop, in order id order.
    pub fn all(&self) -> Vec<&WaitingStop> {
        let mut all: Vec<&WaitingStop> = self.buys.values().chain(self.sells.values()).collect();
        all.sort_unstable_by_key(|stop| stop.order.order_id);
        all
    }

    /// Ids of a user's waiting stops.
    pub fn of_user(&self, user: UserId) -> impl Iterator<Item = OrderId> + '_ {
        self.buys
            .values()
            .chain(self.sells.values())
            .filter(move |s| s.order.user_id == user)
            .map(|s| s.order.order_id)
    }

    /// Checks that the index and both maps agree.
    pub fn check(&self) -> Result<(), String> {
        let in_maps = self.buys.len() + self.sells.len();
        if in_maps != self.index.len() {
            return Err(format!(
                "stops: {in_maps} in maps, {} indexed",
                self.index.len()
            ));
        }
        for ((price, id), stop) in self.buys.iter().chain(self.sells.iter()) {
            if stop.order.order_id != *id
                || stop.order.stop_price != Some(*price)
                || stop.remaining.0 == 0
            {
                return Err(format!("stop {id:?} is inconsistent"));
            }
        }
        Ok(())
    }
}
