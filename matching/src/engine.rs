//! A shard's engine: the books of the stocks routed to it, each touched only through `apply`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use rustc_hash::FxHasher;

use crate::book::{BookSnapshot, OrderBook};
use crate::command::{Action, Command};
use crate::event::{Event, RejectReason};
use crate::types::{OrderId, StockId};

/// The shard that owns a stock's book: `stock_id % shard_count` (a zero count is treated as one).
pub fn shard_of(stock_id: StockId, shard_count: u32) -> u32 {
    let shards = u64::from(shard_count.max(1));
    u32::try_from(stock_id.0 % shards).unwrap_or(0)
}

/// The books of one shard. Books are created by the first order placed for their stock.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    // Ordered by stock id so that iteration, snapshots and the hash are deterministic.
    books: BTreeMap<StockId, OrderBook>,
}

/// The complete state of an engine: its books' snapshots in stock id order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct EngineSnapshot {
    /// One per book.
    pub books: Vec<BookSnapshot>,
}

impl Engine {
    /// An engine with no books.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one command to its stock's book, appending what happened to `out`.
    pub fn apply(&mut self, command: &Command, out: &mut Vec<Event>) {
        let stock_id = command.stock_id;
        if let Some(book) = self.books.get_mut(&stock_id) {
            book.apply(command, out);
            return;
        }
        match command.action {
            Action::Place(_) => {
                let book = self
                    .books
                    .entry(stock_id)
                    .or_insert_with(|| OrderBook::new(stock_id));
                book.apply(command, out);
            }
            Action::Cancel { order_id, user_id }
            | Action::Reduce {
                order_id, user_id, ..
            } => {
                out.push(Event::Rejected {
                    stock_id,
                    order_id,
                    user_id,
                    reason: RejectReason::UnknownOrder,
                });
            }
            Action::CancelAll { user_id } => {
                let reason = RejectReason::NothingToCancel;
                out.push(Event::Rejected {
                    stock_id,
                    order_id: OrderId(0),
                    user_id,
                    reason,
                });
            }
        }
    }

    /// A stock's book, if any order was ever placed for it here.
    pub fn book(&self, stock_id: StockId) -> Option<&OrderBook> {
        self.books.get(&stock_id)
    }

    /// Every book, in stock id order.
    pub fn books(&self) -> impl Iterator<Item = &OrderBook> + '_ {
        self.books.values()
    }

    /// A fingerprint of every book's state.
    pub fn state_hash(&self) -> u64 {
        let mut hasher = FxHasher::default();
        for book in self.books.values() {
            book.stock_id().hash(&mut hasher);
            book.state_hash().hash(&mut hasher);
        }
        hasher.finish()
    }

    /// The complete state, for persistence and recovery.
    pub fn snapshot(&self) -> EngineSnapshot {
        EngineSnapshot {
            books: self.books.values().map(OrderBook::snapshot).collect(),
        }
    }

    /// An engine in exactly the snapshot's state (same state hash).
    pub fn restore(snapshot: &EngineSnapshot) -> Self {
        let books = snapshot
            .books
            .iter()
            .map(|b| (b.stock_id, OrderBook::restore(b)))
            .collect();
        Self { books }
    }
}
