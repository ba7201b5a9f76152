//! One shard served over RabbitMQ. The shard thread runs as in embedded mode; this adapter feeds
//! it and hands its outcomes to the broker:
//!
//! 1. on start (after recovery) the logged outcomes after the persisted hand-off watermark are
//!    published again (consumers are idempotent by sequence), so nothing committed is lost;
//! 2. `commands` consumes `P.shard.K` (manual acks, bounded prefetch), feeds each command to
//!    the shard thread, publishes each outcome to `P.events` / `outcome.shard.K` (persistent,
//!    mandatory, confirmed, carrying the command's `reply_to` and `correlation_id`) and only then
//!    acks the command. The shard's `settled` watermark is "published and confirmed through S":
//!    from then on the broker owns the outcome, and the shard may drop it from its log;
//! 3. `queries` answers best-ask queries on the engine's own `P.shard.K.query` queue.
//!
//! A command redelivered after the engine died between its commit and its ack is recognised by
//! its order ref (see [`crate::shard`]) and answered with its logged outcome. Errors are
//! crash-only: [`serve`] stops, closes its connection (the broker requeues what was not acked)
//! and returns the cause; the role exits and is restarted.

mod commands;
mod queries;
#[cfg(test)]
mod tests;

use std::future::Future;

use contracts::amqp::Topology;
use platform::amqp::{self, Publisher, Route};
use tokio::sync::{mpsc, watch};

use crate::shard::Shard;

/// Commands queued into the shard thread at most.
const SHARD_QUEUE: usize = 1024;
/// Unacknowledged commands the broker sends ahead (bounded: they sit in memory here).
pub const COMMAND_PREFETCH: u16 = 512;

/// Where the shard's messages live.
#[derive(Debug, Clone)]
pub struct ShardBusConfig {
    /// The AMQP URL (`amqp://user:pass@host:5672/vhost`).
    pub url: String,
    /// The topology prefix (`EXCHANGE_AMQP_PREFIX`).
    pub prefix: String,
    /// How many shards there are (the topology declares all of them).
    pub shard_count: u32,
}

/// Serves `shard` until `shutdown` resolves (`Ok`) or something fails (`Err`: the broker, the
/// shard's store). Either way the connection is closed and the shard thread joined before it
/// returns, so the shard's file can be opened again.
pub async fn serve(
    config: &ShardBusConfig,
    shard: Shard,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let index = shard.index;
    let connection = amqp::connect(&config.url, &format!("engine-shard-{index}")).await?;
    let topology = Topology::new(config.prefix.clone());
    let result = run(&connection, &topology, config.shard_count, shard, shutdown).await;
    if let Err(error) = &result {
        tracing::error!(shard = index, ?error, "the shard's bus stopped");
    }
    // Unacknowledged commands go back to the queue for the next engine.
    amqp::close(&connection, "engine stops").await;
    result
}

async fn run(
    connection: &lapin::Connection,
    topology: &Topology,
    shard_count: u32,
    shard: Shard,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let index = shard.index;
    let publisher = Publisher::open(connection).await?;
    amqp::declare_topology(publisher.channel(), topology, shard_count).await?;
    let watermark = republish(&publisher, topology, &shard).await?;
    let (inputs, input_receiver) = mpsc::channel(SHARD_QUEUE);
    let (deliveries, delivery_receiver) = mpsc::channel(SHARD_QUEUE);
    let (settled, settled_receiver) = watch::channel(watermark);
    let thread = shard.spawn(input_receiver, deliveries, settled_receiver)?;
    tokio::spawn(commands::answer_deliveries(delivery_receiver));
    let (pending, pending_receiver) = mpsc::channel(usize::from(COMMAND_PREFETCH));
    let consume = commands::Consume {
        topology: topology.clone(),
        index,
        shard_count,
        inputs: inputs.clone(),
        pending,
    };
    let command_channel = amqp::consumer_channel(connection, COMMAND_PREFETCH).await?;
    let mut consumer = tokio::spawn(consume.run(command_channel));
    let publish = commands::PublishOutcomes {
        topology: topology.clone(),
        index,
        publisher,
        settled,
    };
    let mut outcomes = tokio::spawn(publish.run(pending_receiver));
    let query_publisher = Publisher::open(connection).await?;
    let queries = tokio::spawn(queries::answer(
        connection.create_channel().await?,
        topology.query_queue(index),
        inputs,
        query_publisher,
    ));
    let result = tokio::select! {
        () = shutdown => Ok(()),
        joined = &mut consumer => flatten(joined),
        joined = &mut outcomes => flatten(joined),
    };
    // Stop taking commands; what the shard already has is published and acked (unless the
    // publishing side failed), then the shard thread sees its inputs close and stops.
    consumer.abort();
    queries.abort();
    let drained = if outcomes.is_finished() {
        Ok(())
    } else {
        flatten(outcomes.await)
    };
    let _ = queries.await;
    // The select may have polled the consumer to completion already (the broker went away):
    // a JoinHandle polled again after completion panics.
    if !consumer.is_finished() {
        let _ = consumer.await;
    }
    tokio::task::spawn_blocking(move || thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("shard {index}'s thread panicked"))?;
    result.and(drained)
}

fn flatten(joined: Result<anyhow::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    joined?
}

/// Publishes the logged outcomes after the persisted watermark again; returns the new watermark
/// (the shard's last sequence).
async fn republish(
    publisher: &Publisher,
    topology: &Topology,
    shard: &Shard,
) -> anyhow::Result<u64> {
    let after = shard.settled_through();
    let outcomes = shard.unsettled(after);
    let exchange = topology.events_exchange();
    let key = Topology::outcome_key(shard.index);
    let route = Route {
        exchange: &exchange,
        routing_key: &key,
        mandatory: true,
    };
    let mut confirms = Vec::with_capacity(outcomes.len());
    for outcome in &outcomes {
        let body = contracts::amqp::encode(outcome)?;
        confirms.push(
            publisher
                .send(route, &body, amqp::persistent_properties())
                .await?,
        );
    }
    for confirm in confirms {
        confirm.confirmed().await?;
    }
    if !outcomes.is_empty() {
        tracing::info!(
            shard = shard.index,
            after,
            outcomes = outcomes.len(),
            "published the logged outcomes again after a restart"
        );
    }
    Ok(outcomes
        .last()
        .map_or(after, |o| o.sequence)
        .max(shard.sequence()))
}
