//! Snapshot, restore and the state hash of a book.
//!
//! A snapshot lists resting orders in priority order (bids best level first, FIFO within a level,
//! then asks) and waiting stops by id; restoring rests them again in that order, so queue
//! positions, and therefore the state hash, are identical.

use std::hash::{Hash, Hasher};

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use rustc_hash::FxHasher;

use super::OrderBook;
use super::stops::WaitingStop;
use crate::types::{NewOrder, OrderId, Price, Quantity, Side, StockId, UserId};

/// The complete state of one book.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct BookSnapshot {
    /// The stock.
    pub stock_id: StockId,
    /// The highest order id accepted so far.
    pub last_order_id: Option<OrderId>,
    /// Trades printed so far.
    pub trade_sequence: u64,
    /// The price stops trigger on.
    pub last_trade_price: Option<Price>,
    /// Resting orders in priority order.
    pub resting: Vec<RestingSnapshot>,
    /// Waiting stops by id.
    pub stops: Vec<StopSnapshot>,
}

/// A resting order in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RestingSnapshot {
    /// Its id.
    pub order_id: OrderId,
    /// Its owner.
    pub user_id: UserId,
    /// Its side.
    pub side: Side,
    /// Its limit price.
    pub price: Price,
    /// Lots as placed.
    pub quantity: Quantity,
    /// Lots filled.
    pub filled: Quantity,
    /// Lots open.
    pub remaining: Quantity,
    /// The stop that created it, if any.
    pub stop_price: Option<Price>,
}

/// A waiting stop in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StopSnapshot {
    /// The order as placed.
    pub order: NewOrder,
    /// Lots open (as placed, less reductions).
    pub remaining: Quantity,
}

impl OrderBook {
    /// The whole state, for persistence and recovery.
    pub fn snapshot(&self) -> BookSnapshot {
        BookSnapshot {
            stock_id: self.stock_id,
            last_order_id: self.last_order_id,
            trade_sequence: self.trade_sequence,
            last_trade_price: self.last_trade_price,
            resting: self
                .resting_in_priority()
                .map(|order| RestingSnapshot {
                    order_id: order.id,
                    user_id: order.user,
                    side: order.side,
                    price: order.price,
                    quantity: order.quantity,
                    filled: order.filled,
                    remaining: order.remaining,
                    stop_price: self.ladder.stop_price(order.id),
                })
                .collect(),
            stops: self
                .stops
                .all()
                .into_iter()
                .map(|s| StopSnapshot {
                    order: s.order,
                    remaining: s.remaining,
                })
                .collect(),
        }
    }

    /// A book in exactly the snapshot's state (same queue positions, same state hash).
    pub fn restore(snapshot: &BookSnapshot) -> Self {
        let mut book = Self::new(snapshot.stock_id);
        book.last_order_id = snapshot.last_order_id;
        book.trade_sequence = snapshot.trade_sequence;
        book.last_trade_price = snapshot.last_trade_price;
        for order in &snapshot.resting {
            // Only a hand-made snapshot can overflow a level total; that order is then dropped and
            // the restored state hash differs from the snapshot's, which recovery compares.
            let _level_total = book.ladder.rest(*order);
        }
        for stop in &snapshot.stops {
            book.stops.insert(WaitingStop {
                order: stop.order,
                remaining: stop.remaining,
            });
        }
        book
    }

    /// A fingerprint of the whole state: equal books have equal hashes, whatever path led there.
    pub fn state_hash(&self) -> u64 {
        self.snapshot().state_hash()
    }
}

impl BookSnapshot {
    /// The [`OrderBook::state_hash`] of the book this snapshot restores, without walking the book
    /// again.
    pub fn state_hash(&self) -> u64 {
        let mut hasher = FxHasher::default();
        self.hash(&mut hasher);
        hasher.finish()
    }
}
