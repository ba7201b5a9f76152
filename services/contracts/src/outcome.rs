//! What a shard publishes for each command, after it is durable.

use serde::{Deserialize, Serialize};

use crate::shard::{ShardCommand, Side};

/// A trade's exchange-wide id: its book and the book's trade counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TradeId {
    /// The book.
    pub stock_id: u64,
    /// The book's trade sequence (1, 2, 3, ...).
    pub sequence: u64,
}

/// One match, at the maker's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// Unique per trade; settlement is idempotent by it.
    pub trade_id: TradeId,
    /// The maker's price.
    pub price_cents: u64,
    /// Lots traded.
    pub quantity: u64,
    /// The buying order.
    pub buyer_ref: u64,
    /// Its owner.
    pub buyer_user: u64,
    /// The selling order.
    pub seller_ref: u64,
    /// Its owner.
    pub seller_user: u64,
    /// The side of the incoming (taker) order.
    pub taker_side: Side,
}

/// How an order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    /// Completely filled.
    Filled,
    /// Cancelled (by its owner or by self-trade prevention).
    Cancelled,
    /// Time in force ran out (IOC/FOK/market residual).
    Expired,
}

/// An order reached its terminal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEnded {
    /// The order.
    pub order_ref: u64,
    /// Its owner.
    pub user_id: u64,
    /// Why it ended.
    pub reason: EndReason,
    /// Lots filled over its life.
    pub filled: u64,
    /// Lots that will never fill.
    pub remaining: u64,
}

/// Whether the shard took the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    /// Accepted: fills and ends follow in the outcome.
    Accepted,
    /// Refused; nothing changed in the book.
    Rejected {
        /// Why, for the client.
        reason: String,
    },
}

/// Everything one command did, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOutcome {
    /// [`crate::CONTRACT_VERSION`] of the sender.
    pub version: u16,
    /// The shard that sequenced the command.
    pub shard: u32,
    /// The shard's sequence for the command: dense from 1.
    pub sequence: u64,
    /// The shard's clock when it sequenced the command (nanoseconds since the epoch).
    pub timestamp_ns: u64,
    /// The command.
    pub command: ShardCommand,
    /// Accepted or rejected.
    pub result: CommandResult,
    /// Trades, in order.
    pub fills: Vec<Fill>,
    /// Orders that reached a terminal state, in order (the taker's own end last).
    pub ended: Vec<OrderEnded>,
}
