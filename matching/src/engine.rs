//! A shard's engine: the books of the stocks routed to it, each touched only through `apply`.

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
    // Sorted by stock id, so iteration, snapshots and the hash are deterministic.
    books: Vec<OrderBook>,
    // The book the previous command used: commands come in runs of one stock, and checking it
    // first saves the search (a hint only; any value is safe).
    last: usize,
}

/// The complete state of an engine: its books' snapshots in stock id order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct EngineSnapshot {
    /// One per book.
    pub books: Vec<BookSnapshot>,
}

impl EngineSnapshot {
    /// The [`Engine::state_hash`] of the engine this snapshot was taken of, without walking its
    /// books again (a shard hashes every books snapshot it writes).
    pub fn state_hash(&self) -> u64 {
        let mut hasher = FxHasher::default();
        for book in &self.books {
            book.stock_id.hash(&mut hasher);
            book.state_hash().hash(&mut hasher);
        }
        hasher.finish()
    }
}

impl Engine {
    /// An engine with no books.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where a stock's book is (`Ok`) or would be inserted (`Err`).
    fn position(&self, stock_id: StockId) -> Result<usize, usize> {
        match self.books.get(self.last) {
            Some(book) if book.stock_id() == stock_id => Ok(self.last),
            _ => self
                .books
                .binary_search_by_key(&stock_id, OrderBook::stock_id),
        }
    }

    /// Applies one command to its stock's book, appending what happened to `out`.
    pub fn apply(&mut self, command: &Command, out: &mut Vec<Event>) {
        let stock_id = command.stock_id;
        let index = match (self.position(stock_id), &command.action) {
            (Ok(index), _) => index,
            (Err(index), Action::Place(_)) => {
                self.books.insert(index, OrderBook::new(stock_id));
                index
            }
            (
                Err(_),
                Action::Cancel { order_id, user_id }
                | Action::Reduce {
                    order_id, user_id, ..
                },
            ) => {
                let reason = RejectReason::UnknownOrder;
                out.push(Event::Rejected {
                    stock_id,
                    order_id: *order_id,
                    user_id: *user_id,
                    reason,
                });
                return;
            }
            (Err(_), &Action::CancelAll { user_id }) => {
                let reason = RejectReason::NothingToCancel;
                out.push(Event::Rejected {
                    stock_id,
                    order_id: OrderId(0),
                    user_id,
                    reason,
                });
                return;
            }
        };
        self.last = index;
        self.books[index].apply(command, out);
    }

    /// A stock's book, if any order was ever placed for it here.
    pub fn book(&self, stock_id: StockId) -> Option<&OrderBook> {
        self.position(stock_id).ok().map(|index| &self.books[index])
    }

    /// Every book, in stock id order.
    pub fn books(&self) -> impl Iterator<Item = &OrderBook> + '_ {
        self.books.iter()
    }

    /// A fingerprint of every book's state.
    pub fn state_hash(&self) -> u64 {
        self.snapshot().state_hash()
    }

    /// The complete state, for persistence and recovery.
    pub fn snapshot(&self) -> EngineSnapshot {
        EngineSnapshot {
            books: self.books.iter().map(OrderBook::snapshot).collect(),
        }
    }

    /// An engine in exactly the snapshot's state (same state hash). Books are kept in stock id
    /// order whatever order the snapshot lists them in.
    pub fn restore(snapshot: &EngineSnapshot) -> Self {
        let mut books: Vec<OrderBook> = snapshot.books.iter().map(OrderBook::restore).collect();
        books.sort_by_key(OrderBook::stock_id);
        books.dedup_by_key(|book| book.stock_id());
        Self { books, last: 0 }
    }
}
