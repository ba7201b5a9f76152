//! The matching core: deterministic price-time order books, one per stock.
//!
//! This crate owns the books of the exchange and nothing else: no I/O, no clock, no randomness, no
//! async runtime. A [`Command`] goes in, [`Event`]s come out, always the same events and the same
//! [`OrderBook::state_hash`] for the same command sequence. Sequence numbers and timestamps are
//! inputs stamped by the shard that feeds the book.
//!
//! Prices are integer ticks and quantities integer lots ([`Price`], [`Quantity`], both 64-bit);
//! notional amounts are 128-bit, so no product overflows. Business rejections are
//! [`Event::Rejected`] with a [`RejectReason`], never an `Err` or a panic.
//!
//! The events are the whole story: every live order's remaining and filled quantities can be
//! rebuilt from `Accepted`, `Trade`, `Reduced` and `Done`, and the depth book from
//! `LevelChanged` (the tests do both after every command).
//!
//! # Invariants (checked by [`OrderBook::check_invariants`] after every command in the tests)
//! - The book is never crossed: best bid < best ask.
//! - No empty price level; each level's total equals the sum of its orders' remainders.
//! - The id index and the levels agree; every resting quantity is positive.
//! - Within a level orders are in arrival (FIFO) order; a partially filled maker keeps its place.
//! - No self-trade executes; a trade prints at the maker's price.
//!
//! # Known limits
//! - Order ids must be strictly increasing per book (the shard assigns them); this rejects a
//!   reused id in O(1) without remembering every id ever seen.
//! - Price levels live in a `BTreeMap` per side (O(log levels) to add or remove a level), found by a
//!   hash probe when they exist, with the best level of each side cached; cancel by id is O(1)
//!   (id index into a slab threaded by an intrusive doubly linked list per level).
//! - Self-trade `Skip` never rests a residual across the taker's own orders: it is cancelled.

mod book;
mod command;
mod engine;
mod event;
mod types;

pub use book::{
    BookSnapshot, DepthLevel, InvariantViolation, OrderBook, OrderState, OrderView,
    RestingSnapshot, StopSnapshot,
};
pub use command::{Action, Command};
pub use engine::{Engine, EngineSnapshot, shard_of};
pub use event::{CancelReason, DoneReason, Event, ExpireReason, RejectReason, Trade};
pub use types::{
    NewOrder, Notional, OrderId, OrderKind, Price, Quantity, SelfTradePrevention, Side, StockId,
    TimeInForce, UserId,
};
