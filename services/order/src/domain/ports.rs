//! The shard port: how the order role reaches the matching shards.

use async_trait::async_trait;
use contracts::embedded::BestAsk;
use contracts::{ShardCommand, ShardOutcome};

/// The way to the shards. `Err` is an outage (the shard or settlement is gone).
#[async_trait]
pub trait ShardRouter: Send + Sync + 'static {
    /// Sends `command` to its shard and resolves with its outcome once settled.
    async fn execute(&self, command: ShardCommand) -> anyhow::Result<ShardOutcome>;
    /// The best ask of every book of every shard.
    async fn best_asks(&self) -> anyhow::Result<Vec<BestAsk>>;
    /// False when a command could not be sent now (the broker is away). Checked before escrow
    /// is reserved, so an outage answers 503 without leaving a reservation for the sweeper.
    fn ready(&self) -> bool {
        true
    }
}
