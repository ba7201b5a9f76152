//! Events out of a book: enough to rebuild every order's state and the depth book from the
//! stream alone.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::types::{NewOrder, OrderId, Price, Quantity, Side, StockId, UserId};

/// Something that happened in a book, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum Event {
    /// A placed order passed validation; trades, resting and done follow.
    Accepted {
        /// The book.
        stock_id: StockId,
        /// The order as placed.
        order: NewOrder,
    },
    /// A command was refused; it changed nothing.
    Rejected {
        /// The book.
        stock_id: StockId,
        /// The order the command named.
        order_id: OrderId,
        /// The user who sent it.
        user_id: UserId,
        /// Why.
        reason: RejectReason,
    },
    /// A match.
    Trade(Trade),
    /// A waiting stop order's trigger was reached; it now enters the book as a normal order.
    Triggered {
        /// The book.
        stock_id: StockId,
        /// The stop order.
        order_id: OrderId,
        /// Its owner.
        user_id: UserId,
    },
    /// An order's remaining quantity shrank without a trade: a reduce, or a self-trade decrement of
    /// the resting order or of the taker (a taker decremented to nothing gets `Done` instead).
    Reduced {
        /// The book.
        stock_id: StockId,
        /// The order.
        order_id: OrderId,
        /// Its owner.
        user_id: UserId,
        /// Remaining lots after the reduction.
        remaining: Quantity,
    },
    /// An order reached its terminal state; nothing more happens to it.
    Done {
        /// The book.
        stock_id: StockId,
        /// The order.
        order_id: OrderId,
        /// Its owner.
        user_id: UserId,
        /// Filled, cancelled or expired, and why.
        reason: DoneReason,
        /// Lots filled over the order's life.
        filled: Quantity,
        /// Lots that will never fill (zero when filled).
        remaining: Quantity,
    },
    /// The total resting quantity at a price changed (zero means the level is gone).
    LevelChanged {
        /// The book.
        stock_id: StockId,
        /// Bid or ask side.
        side: Side,
        /// The level's price.
        price: Price,
        /// The new total resting quantity at that price.
        quantity: Quantity,
    },
}

/// A trade between a resting maker and an incoming taker, at the maker's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Trade {
    /// The book.
    pub stock_id: StockId,
    /// The book's trade counter (1, 2, 3, ...): with the stock id, a unique trade id.
    pub trade_sequence: u64,
    /// The sequence of the command that caused it.
    pub command_sequence: u64,
    /// The command's timestamp.
    pub timestamp_ns: u64,
    /// The maker's price.
    pub price: Price,
    /// Lots traded.
    pub quantity: Quantity,
    /// The resting order.
    pub maker_order_id: OrderId,
    /// Its owner.
    pub maker_user_id: UserId,
    /// The incoming order.
    pub taker_order_id: OrderId,
    /// Its owner (never the maker's).
    pub taker_user_id: UserId,
    /// The maker's side; the taker is on the other.
    pub maker_side: Side,
}

impl Trade {
    /// The buyer's order and user.
    pub fn buyer(&self) -> (OrderId, UserId) {
        match self.maker_side {
            Side::Buy => (self.maker_order_id, self.maker_user_id),
            Side::Sell => (self.taker_order_id, self.taker_user_id),
        }
    }

    /// The seller's order and user.
    pub fn seller(&self) -> (OrderId, UserId) {
        match self.maker_side {
            Side::Sell => (self.maker_order_id, self.maker_user_id),
            Side::Buy => (self.taker_order_id, self.taker_user_id),
        }
    }
}

/// Why a command was refused. Ordered by the precedence in which they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum RejectReason {
    /// Quantity (or reduce amount) is zero.
    ZeroQuantity,
    /// A limit or stop price is zero.
    ZeroPrice,
    /// A quote cap on a sell, or a zero quote cap.
    InvalidQuoteCap,
    /// GTC market order, or post-only on a market / IOC / FOK order.
    InvalidTimeInForce,
    /// The order id is not greater than every id this book has seen.
    DuplicateOrderId,
    /// A post-only order would have taken liquidity.
    PostOnlyWouldTake,
    /// Cancel or reduce of an order that is not live in this book (unknown, filled, cancelled).
    UnknownOrder,
    /// Cancel or reduce of someone else's order.
    NotOwner,
    /// Cancel-all found nothing of the user's.
    NothingToCancel,
}

/// How an order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum DoneReason {
    /// Completely filled.
    Filled,
    /// Cancelled before filling completely.
    Cancelled(CancelReason),
    /// Its time in force ran out before it filled completely.
    Expired(ExpireReason),
}

/// Why an order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum CancelReason {
    /// Its owner cancelled it (cancel or cancel-all).
    ByUser,
    /// Its owner reduced it to nothing.
    ReducedToZero,
    /// Self-trade prevention removed it.
    SelfTrade,
    /// Its residual would have pushed its price level's total past 64 bits.
    LevelFull,
}

/// Why an order expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum ExpireReason {
    /// IOC or market residual: no more liquidity within its price.
    ImmediateOrCancel,
    /// FOK that could not fill completely; nothing traded and the book is untouched.
    FillOrKill,
    /// A market buy spent as much of its quote cap as the next lot allows.
    QuoteCapReached,
}
