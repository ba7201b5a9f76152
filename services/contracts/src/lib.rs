//! The messages that cross process boundaries: commands to a matching shard and the outcome the
//! shard publishes for each one. Embedded mode carries them over tokio channels
//! ([`embedded`]); the distributed mode carries the same serde types over RabbitMQ as JSON
//! ([`amqp`]: topology names, encoding, version check).
//!
//! Invariants: every command a shard sequences produces exactly one [`ShardOutcome`] with the
//! shard's next `sequence` (dense, starting at 1), so a consumer that applies outcomes in sequence
//! order and remembers the last one applied is idempotent. Orders are named by `order_ref`, the
//! exchange-wide id the portfolio allocated at escrow time (never the shard's internal id).
//! Money is integer cents, quantities whole lots. Changing a type bumps [`CONTRACT_VERSION`].

pub mod amqp;
pub mod embedded;
mod outcome;
mod shard;

pub use outcome::{CommandResult, EndReason, Fill, OrderEnded, ShardOutcome, TradeId};
pub use shard::{
    CancelOrder, ExpireOrder, OrderType, PlaceOrder, SelfTrade, ShardCommand, Side, TimeInForce,
};

/// The version of these messages; carried by every outcome. 2: [`ShardCommand::Expire`].
pub const CONTRACT_VERSION: u16 = 2;

/// The shard that owns `stock_id` among `shard_count` shards.
pub fn shard_of(stock_id: u64, shard_count: u32) -> u32 {
    let count = u64::from(shard_count.max(1));
    u32::try_from(stock_id % count).unwrap_or(0)
}
