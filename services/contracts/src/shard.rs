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

/// Expire an order whose escrow was reserved but whose place may never come (the order process
/// died between its reservation and its publish). Meaning: "if this shard never sequenced this
/// order, it never will". The shard answers:
/// - the ref was already sequenced (placed, or expired before): `Rejected`, no other effect;
/// - the ref is unknown: `Accepted` with one [`crate::OrderEnded`] (`Expired`, nothing filled,
///   nothing remaining), and the ref counts as sequenced from then on, so a place carrying it
///   that arrives later is answered with this outcome and never placed.
///
/// Safe to send at any time for an order whose place was published before it: the shard's queue
/// is FIFO, so that place is sequenced first and the expire is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpireOrder {
    /// The order.
    pub order_ref: u64,
    /// Its owner (whose escrow an accepted expire releases).
    pub user_id: u64,
    /// Its book (routes the command to the owning shard).
    pub stock_id: u64,
}

/// A command to the shard that owns the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardCommand {
    /// Place an order.
    Place(PlaceOrder),
    /// Cancel an order.
    Cancel(CancelOrder),
    /// Expire an order the shard may never have seen (added in contract version 2).
    Expire(ExpireOrder),
}

impl ShardCommand {
    /// The stock the command is for.
    pub fn stock_id(&self) -> u64 {
        match self {
            Self::Place(place) => place.stock_id,
            Self::Cancel(cancel) => cancel.stock_id,
            Self::Expire(expire) => expire.stock_id,
        }
    }

    /// The order the command is about.
    pub fn order_ref(&self) -> u64 {
        match self {
            Self::Place(place) => place.order_ref,
            Self::Cancel(cancel) => cancel.order_ref,
            Self::Expire(expire) => expire.order_ref,
        }
    }

    /// The order's owner.
    pub fn user_id(&self) -> u64 {
        match self {
            Self::Place(place) => place.user_id,
            Self::Cancel(cancel) => cancel.user_id,
            Self::Expire(expire) => expire.user_id,
        }
    }
}
