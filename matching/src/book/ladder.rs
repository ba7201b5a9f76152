//! The resting orders of one book: a slab of orders threaded into per-price FIFO lists, the price
//! levels of both sides in `BTreeMap`s, and an id index for O(1) lookup and unlink.
//!
//! Invariants kept here: every slot in `index` is live and linked into the level of its price;
//! a level's `total` is the sum of its orders' `remaining`; no level is empty.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::snapshot::RestingSnapshot;
use crate::types::{OrderId, Price, Quantity, Side, UserId};

/// "No slot": the end of a FIFO list.
pub(crate) const NIL: u32 = u32::MAX;

/// A resting limit order.
#[derive(Debug, Clone)]
pub(crate) struct Resting {
    pub id: OrderId,
    pub user: UserId,
    pub side: Side,
    pub price: Price,
    /// As placed.
    pub quantity: Quantity,
    pub filled: Quantity,
    pub remaining: Quantity,
    /// When it joined its level (a book-wide counter): FIFO order within a level.
    pub arrival: u64,
    level: u32,
    prev: u32,
    next: u32,
}

/// A price level: a FIFO list of slots and its total.
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub price: Price,
    pub side: Side,
    pub total: u64,
    pub count: u32,
    pub head: u32,
    tail: u32,
}

/// Both sides of a book's resting orders.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ladder {
    orders: Vec<Resting>,
    free_orders: Vec<u32>,
    levels: Vec<Level>,
    free_levels: Vec<u32>,
    arrivals: u64,
    // Point lookups only: iteration order of this map never reaches output.
    index: FxHashMap<OrderId, u32>,
    // The stop price of resting orders that were triggered stop-limits (kept for views and
    // snapshots). Rare, so it lives here rather than in every `Resting`: that keeps a slot at
    // 72 bytes instead of 88 (see matching/README.md, memory). Point lookups only.
    stop_prices: FxHashMap<OrderId, Price>,
    bids: BTreeMap<Price, u32>,
    asks: BTreeMap<Price, u32>,
    // The same levels by (side, price): most orders rest at a level that exists, and a hash probe
    // is cheaper than a tree descent; the trees are touched only when a level comes or goes.
    // Point lookups only.
    level_index: FxHashMap<(Side, Price), u32>,
    // The best level of each side (`None`: side empty), kept in step with the trees because every
    // incoming order starts its walk there.
    best_bid: Option<u32>,
    best_ask: Option<u32>,
}

impl Ladder {
    fn side_map(&self, side: Side) -> &BTreeMap<Price, u32> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_map_mut(&mut self, side: Side) -> &mut BTreeMap<Price, u32> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Number of resting orders.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of a resting order.
    pub fn find(&self, id: OrderId) -> Option<u32> {
        self.index.get(&id).copied()
    }

    pub fn order(&self, slot: u32) -> &Resting {
        &self.orders[slot as usize]
    }

    pub fn level(&self, level: u32) -> &Level {
        &self.levels[level as usize]
    }

    /// The stop price of a resting order that was a triggered stop-limit.
    pub fn stop_price(&self, id: OrderId) -> Option<Price> {
        if self.stop_prices.is_empty() {
            return None;
        }
        self.stop_prices.get(&id).copied()
    }

    /// The level an order rests in.
    pub fn level_of(&self, slot: u32) -> u32 {
        self.orders[slot as usize].level
    }

    /// The next order in the same level, if any.
    pub fn next_in_level(&self, slot: u32) -> Option<u32> {
        let next = self.orders[slot as usize].next;
        (next != NIL).then_some(next)
    }

    /// The best level of a side.
    pub fn best(&self, side: Side) -> Option<u32> {
        match side {
            Side::Buy => self.best_bid,
            Side::Sell => self.best_ask,
        }
    }

    /// The best level of a side, read from its tree.
    fn best_in_tree(&self, side: Side) -> Option<u32> {
        let map = self.side_map(side);
        let best = match side {
            Side::Buy => map.last_key_value(),
            Side::Sell => map.first_key_value(),
        };
        best.map(|(_, level)| *level)
    }

    /// Makes `level` (just created) the side's best if it beats the current one.
    fn offer_best(&mut self, side: Side, level: u32) {
        let price = self.levels[level as usize].price;
        let current = self.best(side).map(|best| self.levels[best as usize].price);
        let better = match (side, current) {
            (_, None) => true,
            (Side::Buy, Some(best)) => price > best,
            (Side::Sell, Some(best)) => price < best,
        };
        if better {
            match side {
                Side::Buy => self.best_bid = Some(level),
                Side::Sell => self.best_ask = Some(level),
            }
        }
    }

    /// The level after `price` going away from the best (lower bids, higher asks).
    pub fn next_level(&self, side: Side, price: Price) -> Option<u32> {
        let map = self.side_map(side);
        let next = match side {
            Side::Buy => map.range(..price).next_back(),
            Side::Sell => map
                .range((std::ops::Bound::Excluded(price), std::ops::Bound::Unbounded))
                .next(),
        };
        next.map(|(_, level)| *level)
    }

    /// Level slots of a side, best first.
    pub fn level_slots(&self, side: Side) -> Box<dyn Iterator<Item = u32> + '_> {
        let map = self.side_map(side);
        match side {
            Side::Buy => Box::new(map.values().rev().copied()),
            Side::Sell => Box::new(map.values().copied()),
        }
    }

    /// Levels of a side, best first.
    pub fn levels(&self, side: Side) -> impl Iterator<Item = &Level> + '_ {
        self.level_slots(side)
            .map(|slot| &self.levels[slot as usize])
    }

    /// Orders of a level in FIFO order.
    pub fn level_orders(&self, level: u32) -> impl Iterator<Item = &Resting> + '_ {
        let mut slot = self.levels[level as usize].head;
        std::iter::from_fn(move || {
            (slot != NIL).then(|| {
                let order = &self.orders[slot as usize];
                slot = order.next;
                order
            })
        })
    }

    /// All resting orders, in no particular order (callers sort when order matters).
    pub fn all(&self) -> impl Iterator<Item = &Resting> + '_ {
        self.index.values().map(|slot| &self.orders[*slot as usize])
    }

    /// Appends an order at the back of its level's queue. Returns the level's new total, or
    /// `None` (and changes nothing) if that total would overflow 64 bits.
    pub fn rest(&mut self, new: RestingSnapshot) -> Option<u64> {
        let level = self.level_for(new.side, new.price);
        let total = self.levels[level as usize]
            .total
            .checked_add(new.remaining.0);
        let Some(total) = total else {
            self.drop_level_if_empty(level);
            return None;
        };
        let tail = self.levels[level as usize].tail;
        let order = Resting {
            id: new.order_id,
            user: new.user_id,
            side: new.side,
            price: new.price,
            quantity: new.quantity,
            filled: new.filled,
            remaining: new.remaining,
            arrival: self.arrivals,
            level,
            prev: tail,
            next: NIL,
        };
        self.arrivals += 1;
        let slot = self.alloc_order(order);
        if tail == NIL {
            self.levels[level as usize].head = slot;
        } else {
            self.orders[tail as usize].next = slot;
        }
        let lv = &mut self.levels[level as usize];
        lv.tail = slot;
        lv.total = total;
        lv.count += 1;
        self.index.insert(new.order_id, slot);
        if let Some(stop) = new.stop_price {
            self.stop_prices.insert(new.order_id, stop);
        }
        Some(total)
    }

    /// Takes `quantity` off a resting order's remainder (a fill when `filled`, else a reduction).
    /// Returns the order's new remainder; the caller removes it when that is zero.
    pub fn take(&mut self, slot: u32, quantity: u64, filled: bool) -> u64 {
        let order = &mut self.orders[slot as usize];
        order.remaining.0 -= quantity;
        if filled {
            order.filled.0 += quantity;
        }
        let remaining = order.remaining.0;
        let level = order.level;
        self.levels[level as usize].total -= quantity;
        remaining
    }

    /// Unlinks and frees an order. Returns it and its level's new total (zero: level removed).
    pub fn remove(&mut self, slot: u32) -> (Resting, u64) {
        let order = self.orders[slot as usize].clone();
        self.index.remove(&order.id);
        if !self.stop_prices.is_empty() {
            self.stop_prices.remove(&order.id);
        }
        if order.prev == NIL {
            self.levels[order.level as usize].head = order.next;
        } else {
            self.orders[order.prev as usize].next = order.next;
        }
        if order.next == NIL {
            self.levels[order.level as usize].tail = order.prev;
        } else {
            self.orders[order.next as usize].prev = order.prev;
        }
        let lv = &mut self.levels[order.level as usize];
        lv.total -= order.remaining.0;
        lv.count -= 1;
        let total = lv.total;
        self.free_orders.push(slot);
        self.drop_level_if_empty(order.level);
        (order, total)
    }

    fn alloc_order(&mut self, order: Resting) -> u32 {
        match self.free_orders.pop() {
            Some(slot) => {
                self.orders[slot as usize] = order;
                slot
            }
            None => {
                self.orders.push(order);
                slot_number(self.orders.len() - 1)
            }
        }
    }

    fn level_for(&mut self, side: Side, price: Price) -> u32 {
        if let Some(level) = self.level_index.get(&(side, price)) {
            return *level;
        }
        let level = Level {
            price,
            side,
            total: 0,
            count: 0,
            head: NIL,
            tail: NIL,
        };
        let slot = match self.free_levels.pop() {
            Some(slot) => {
                self.levels[slot as usize] = level;
                slot
            }
            None => {
                self.levels.push(level);
                slot_number(self.levels.len() - 1)
            }
        };
        self.side_map_mut(side).insert(price, slot);
        self.level_index.insert((side, price), slot);
        self.offer_best(side, slot);
        slot
    }

    fn drop_level_if_empty(&mut self, level: u32) {
        let lv = &self.levels[level as usize];
        if lv.count > 0 {
            return;
        }
        let (price, side) = (lv.price, lv.side);
        self.side_map_mut(side).remove(&price);
        self.level_index.remove(&(side, price));
        self.free_levels.push(level);
        if self.best(side) == Some(level) {
            let next = self.best_in_tree(side);
            match side {
                Side::Buy => self.best_bid = next,
                Side::Sell => self.best_ask = next,
            }
        }
    }

    /// Checks the structural invariants; used by `OrderBook::check_invariants`.
    pub fn check(&self) -> Result<(), String> {
        let mut linked = 0usize;
        for side in [Side::Buy, Side::Sell] {
            for (price, level) in self.side_map(side) {
                let lv = &self.levels[*level as usize];
                if lv.price != *price || lv.side != side {
                    return Err(format!(
                        "level at {price:?} says {:?} {:?}",
                        lv.side, lv.price
                    ));
                }
                if self.level_index.get(&(side, *price)) != Some(level) {
                    return Err(format!(
                        "level {side:?} {price:?} missing from the level index"
                    ));
                }
                let mut sum = 0u64;
                let mut count = 0u32;
                let mut prev_arrival: Option<u64> = None;
                for order in self.level_orders(*level) {
                    if order.remaining.0 == 0 || order.side != side || order.price != *price {
                        return Err(format!("bad order {:?} in level {price:?}", order.id));
                    }
                    if order.filled.0 + order.remaining.0 > order.quantity.0 {
                        return Err(format!(
                            "order {:?} filled + remaining > quantity",
                            order.id
                        ));
                    }
                    if prev_arrival.is_some_and(|prev| prev >= order.arrival) {
                        return Err(format!("FIFO broken at {:?} in level {price:?}", order.id));
                    }
                    if self
                        .find(order.id)
                        .map(|slot| self.orders[slot as usize].id)
                        != Some(order.id)
                    {
                        return Err(format!("order {:?} missing from the index", order.id));
                    }
                    prev_arrival = Some(order.arrival);
                    sum += order.remaining.0;
                    count += 1;
                }
                if count == 0 || count != lv.count || sum != lv.total {
                    return Err(format!(
                        "level {price:?}: count {count}/{} total {sum}/{}",
                        lv.count, lv.total
                    ));
                }
                linked += count as usize;
            }
        }
        if let Some(id) = self
            .stop_prices
            .keys()
            .find(|id| !self.index.contains_key(id))
        {
            return Err(format!("stop price kept for {id:?}, which is not resting"));
        }
        for side in [Side::Buy, Side::Sell] {
            if self.best(side) != self.best_in_tree(side) {
                return Err(format!(
                    "cached best {side:?} level disagrees with the tree"
                ));
            }
        }
        if self.level_index.len() != self.bids.len() + self.asks.len() {
            return Err(format!(
                "level index has {} levels, trees {}",
                self.level_index.len(),
                self.bids.len() + self.asks.len()
            ));
        }
        if linked != self.index.len() {
            return Err(format!(
                "index has {} orders, levels {linked}",
                self.index.len()
            ));
        }
        Ok(())
    }
}

/// Slab positions are `u32` to halve the links; four billion resting orders in one book is far
/// beyond any memory this runs in.
fn slot_number(position: usize) -> u32 {
    u32::try_from(position).expect("more than u32::MAX resting orders in one book")
}
