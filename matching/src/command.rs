//! Commands into a book: the only way its state changes.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::types::{NewOrder, OrderId, Quantity, StockId, UserId};

/// A command addressed to one stock's book, stamped by the shard that sequences it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Command {
    /// The book this command is for.
    pub stock_id: StockId,
    /// The shard's sequence number; an input, echoed on trades, never read from a counter here.
    pub sequence: u64,
    /// Wall time in nanoseconds since the Unix epoch, given by the shard; echoed on trades.
    pub timestamp_ns: u64,
    /// What to do.
    pub action: Action,
}

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum Action {
    /// Place a new order (it may trade, rest, wait for its stop, or be rejected).
    Place(NewOrder),
    /// Cancel the remaining quantity of a resting or waiting order of `user_id`.
    Cancel {
        /// The order to cancel.
        order_id: OrderId,
        /// Must own the order.
        user_id: UserId,
    },
    /// Reduce a resting order's remaining quantity by `by` lots, keeping its queue position.
    /// Reducing by the whole remainder (or more) cancels it.
    Reduce {
        /// The order to reduce.
        order_id: OrderId,
        /// Must own the order.
        user_id: UserId,
        /// Lots to take off; must be positive.
        by: Quantity,
    },
    /// Cancel every resting and waiting order of `user_id` in this book, oldest first.
    CancelAll {
        /// Whose orders.
        user_id: UserId,
    },
}
