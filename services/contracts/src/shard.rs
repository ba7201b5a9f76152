//! Commands to a shard.

use serde::{Deserialize, Serialize};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// A bid.
    Buy,
    /// An ask.
    Sell,
}

/// Limit or market, with the order's price or spend cap in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderType {
    /// Trades at `price_cents` or better.
    Limit {
        /// The limit price.
        price_cents: u64,
    },
    /// Trades at any price; a buy spends at most `quote_cap_cents`.
    Market {
        /// What a market buy may spend (its escrow); `None` for sells.
        quote_cap_cents: Option<u64>,
    },
}

/// How long an order may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

/// Self-trade prevention chosen by the taker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelfTrade {
    /// Pass over own resting orders (the course form).
    Skip,
    /// Cancel the taker's remainder.
    CancelNewest,
    /// Cancel the resting order.
    CancelOldest,
    /// Cancel both.
    CancelBoth,
    /// Reduce both by the smaller size.
    Decrement,
}

/// Place an order whose escrow is already reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceOrder {
    /// The exchange-wide order id (its stock transaction id).
    pub order_ref: u64,
    /// The owner.
    pub user_id: u64,
    /// The book.
    pub stock_id: u64,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub order_type: OrderType,
    /// Lots wanted, positive.
    pub quantity: u64,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Refuse to take liquidity.
    pub post_only: bool,
    /// Self-trade prevention.
    pub self_trade: SelfTrade,
}

/// Cancel the remainder of a live order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelOrder {
    /// The order.
    pub order_ref: u64,
    /// Must own it.
    pub user_id: u64,
    /// Its book.
    pub stock_id: u64,
}

/// A command to the shard that owns the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardCommand {
    /// Place an order.
    Place(PlaceOrder),
    /// Cancel an order.
    Cancel(CancelOrder),
}

impl ShardCommand {
    /// The stock the command is for.
    pub fn stock_id(&self) -> u64 {
        match self {
            Self::Place(place) => place.stock_id,
            Self::Cancel(cancel) => cancel.stock_id,
        }
    }
}
