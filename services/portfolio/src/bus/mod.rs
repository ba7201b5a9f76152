//! Settlement over RabbitMQ: one consumer per shard on `P.settle.shard.K` (a quorum queue with a
//! single active consumer, so one settler per shard at a time, in queue order). It takes what is
//! available (bounded prefetch), applies it with [`PortfolioStore::settle`] in one commit, acks
//! after the commit, then sends each settled outcome to its `reply_to` with its
//! `correlation_id` (the order role answering HTTP waits for it).
//!
//! Idempotent: an outcome at or below the shard's `applied_through` was applied before (a
//! re-published or redelivered copy); it is acked and answered again, never applied again.
//! Errors are crash-only: the loop stops, the connection closes, unacked outcomes are redelivered
//! to the next settler.

mod settle;
pub mod sweeper;
#[cfg(test)]
mod tests;

pub use sweeper::{SweeperConfig, run_sweeper};

use std::future::Future;
use std::sync::Arc;

use contracts::amqp::Topology;
use platform::amqp::{self, Publisher};
use tokio::task::JoinSet;

use crate::domain::ports::PortfolioStore;

/// Unacknowledged outcomes the broker sends ahead per shard (also the largest settle batch).
pub const SETTLE_PREFETCH: u16 = 256;

/// Where the outcomes come from.
#[derive(Debug, Clone)]
pub struct SettlementBusConfig {
    /// The AMQP URL.
    pub url: String,
    /// The topology prefix (`EXCHANGE_AMQP_PREFIX`).
    pub prefix: String,
    /// Shards `0..shard_count` are settled.
    pub shard_count: u32,
}

/// Settles every shard's outcomes into `store` until `shutdown` resolves (`Ok`) or a consumer
/// fails (`Err`); the connection is closed before it returns.
pub async fn run_settlement(
    config: &SettlementBusConfig,
    store: Arc<dyn PortfolioStore>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let connection = amqp::connect(&config.url, "portfolio-settlement").await?;
    let result = run(&connection, config, store, shutdown).await;
    if let Err(error) = &result {
        tracing::error!(?error, "settlement over RabbitMQ stopped");
    }
    amqp::close(&connection, "settlement stops").await;
    result
}

async fn run(
    connection: &lapin::Connection,
    config: &SettlementBusConfig,
    store: Arc<dyn PortfolioStore>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let topology = Topology::new(config.prefix.clone());
    let replies = Publisher::open(connection).await?;
    amqp::declare_topology(replies.channel(), &topology, config.shard_count).await?;
    let mut settlers = JoinSet::new();
    for shard in 0..config.shard_count.max(1) {
        let settler = settle::Settler {
            shard,
            queue: topology.settle_queue(shard),
            store: Arc::clone(&store),
            replies: replies.clone(),
        };
        let channel = amqp::consumer_channel(connection, SETTLE_PREFETCH).await?;
        settlers.spawn(settler.run(channel));
    }
    let result = tokio::select! {
        () = shutdown => Ok(()),
        Some(joined) = settlers.join_next() => joined.map_err(anyhow::Error::from).and_then(|r| r),
    };
    settlers.shutdown().await;
    result
}
