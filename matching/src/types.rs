//! Value types of the core: ids, integer prices and quantities, sides and order options.
//!
//! Prices are integer ticks and quantities integer lots. Conversion from decimals happens at the
//! edge (the services); nothing here knows about currencies or tick sizes.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// An order id. Ids of one book must be strictly increasing: the shard that feeds the book is its
/// sequencer and assigns them, so a reused or stale id is rejected in O(1) without remembering
/// every id ever seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OrderId(pub u64);

/// The owner of an order; self-trade prevention compares these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct UserId(pub u64);

/// A stock (one book per stock). Its shard is `stock_id % shard_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StockId(pub u64);

/// A price in integer ticks; always positive in a valid order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Price(pub u64);

/// A quantity in integer lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Quantity(pub u64);

/// A notional amount in tick-lots (price × quantity), the unit of a market buy's quote cap.
/// 128 bits so that no product of a 64-bit price and a 64-bit quantity can overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Notional(pub u128);

impl Notional {
    /// The notional of `quantity` lots at `price`.
    pub fn of(price: Price, quantity: Quantity) -> Self {
        Self(u128::from(price.0) * u128::from(quantity.0))
    }
}

/// The side of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum Side {
    /// A bid.
    Buy,
    /// An ask.
    Sell,
}

impl Side {
    /// The other side: the one this side matches against.
    pub fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// How long an order may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum TimeInForce {
    /// Good till cancelled: the residual rests (limit orders only).
    Gtc,
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    Ioc,
    /// Fill or kill: fill completely now or do nothing at all (checked before touching the book).
    Fok,
}

/// What a taker does when it would trade against its own resting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum SelfTradePrevention {
    /// Pass over own resting orders, which stay (the course form). A residual that would then
    /// rest crossing an own order is cancelled instead, so the book is never crossed.
    #[default]
    Skip,
    /// Cancel the taker's remainder; the resting order stays.
    CancelNewest,
    /// Cancel the resting order and keep matching.
    CancelOldest,
    /// Cancel both the resting order and the taker's remainder.
    CancelBoth,
    /// Coinbase `dc`: cancel the smaller, reduce the larger by it; equal sizes cancel both.
    Decrement,
}

/// The price behaviour of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum OrderKind {
    /// Trades at `price` or better; a GTC residual rests at `price`.
    Limit {
        /// The worst price the order accepts.
        price: Price,
    },
    /// Trades at any price; never rests. A market buy may be capped by the most it may spend.
    Market {
        /// For buys: the most notional the order may spend; it stops when the next lot would
        /// exceed it. Must be `None` for sells.
        quote_cap: Option<Notional>,
    },
}

/// A new order as the core sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct NewOrder {
    /// Strictly greater than every id this book has seen.
    pub order_id: OrderId,
    /// The owner.
    pub user_id: UserId,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub kind: OrderKind,
    /// Lots wanted; must be positive.
    pub quantity: Quantity,
    /// GTC (limit only), IOC or FOK.
    pub time_in_force: TimeInForce,
    /// Rejected instead of taking liquidity (limit only).
    pub post_only: bool,
    /// The taker's self-trade prevention mode.
    pub self_trade: SelfTradePrevention,
    /// A stop trigger: the order waits until the last trade price reaches it (buy: at or above,
    /// sell: at or below), then enters the book as `kind` says (stop = market, stop-limit = limit).
    pub stop_price: Option<Price>,
}
