//! The adapters of [`ShardRouter`]: the embedded one here (tokio channels into the shard
//! threads) and [`rabbit::AmqpRouter`] (RabbitMQ, distributed mode).

pub mod rabbit;

use async_trait::async_trait;
use contracts::embedded::{BestAsk, ShardInput, ShardSender};
use contracts::{ShardCommand, ShardOutcome, shard_of};
use tokio::sync::oneshot;

use crate::domain::ports::ShardRouter;

/// Routes commands to in-process shards by `stock_id % shard count`.
pub struct ChannelRouter {
    shards: Vec<ShardSender>,
}

impl ChannelRouter {
    /// A router over `shards` (index = shard number).
    pub fn new(shards: Vec<ShardSender>) -> Self {
        Self { shards }
    }

    fn shard(&self, stock_id: u64) -> anyhow::Result<&ShardSender> {
        let count = u32::try_from(self.shards.len())?;
        let index = usize::try_from(shard_of(stock_id, count))?;
        self.shards
            .get(index)
            .ok_or_else(|| anyhow::anyhow!("no shard {index}"))
    }
}

#[async_trait]
impl ShardRouter for ChannelRouter {
    async fn execute(&self, command: ShardCommand) -> anyhow::Result<ShardOutcome> {
        let (reply, answer) = oneshot::channel();
        let shard = self.shard(command.stock_id())?;
        shard
            .send(ShardInput::Command { command, reply })
            .await
            .map_err(|_| anyhow::anyhow!("shard stopped"))?;
        Ok(answer.await?)
    }

    async fn best_asks(&self) -> anyhow::Result<Vec<BestAsk>> {
        let mut answers = Vec::with_capacity(self.shards.len());
        for shard in &self.shards {
            let (reply, answer) = oneshot::channel();
            shard
                .send(ShardInput::BestAsks(reply))
                .await
                .map_err(|_| anyhow::anyhow!("shard stopped"))?;
            answers.push(answer);
        }
        let mut asks = Vec::new();
        for answer in answers {
            asks.extend(answer.await?);
        }
        Ok(asks)
    }
}
