//! Commands in, outcomes out: the consuming task feeds the shard thread in queue order, the
//! publishing task publishes each outcome (confirmed) and then acks its command.

use anyhow::{Context, anyhow};
use contracts::amqp::Topology;
use contracts::embedded::{Delivery, ShardInput};
use contracts::{ShardCommand, ShardOutcome, shard_of};
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use lapin::{Acker, BasicProperties};
use platform::amqp::{self, Publisher, Route};
use tokio::sync::{mpsc, oneshot, watch};

use crate::domain::translate::is_trimmed_duplicate;

/// Outcomes published before their confirms are awaited together.
const PUBLISH_BATCH: usize = 256;

/// A command handed to the shard, waiting for its outcome to be published.
pub(super) struct Pending {
    acker: Acker,
    reply_to: Option<String>,
    correlation_id: Option<String>,
    outcome: oneshot::Receiver<ShardOutcome>,
}

/// Hands each outcome the shard thread delivers to the command waiting for it (the shard
/// delivers in input order, after its commit).
pub(super) async fn answer_deliveries(mut deliveries: mpsc::Receiver<Delivery>) {
    while let Some(delivery) = deliveries.recv().await {
        if let Some(reply) = delivery.reply {
            let _ = reply.send(delivery.outcome);
        }
    }
}

/// The consuming side.
pub(super) struct Consume {
    pub(super) topology: Topology,
    pub(super) index: u32,
    pub(super) shard_count: u32,
    pub(super) inputs: mpsc::Sender<ShardInput>,
    pub(super) pending: mpsc::Sender<Pending>,
}

impl Consume {
    /// Consumes the shard's queue on `channel` (its prefetch set) until the consumer ends (an `Err`: the role must restart).
    pub(super) async fn run(self, channel: lapin::Channel) -> anyhow::Result<()> {
        let queue = self.topology.shard_queue(self.index);
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                format!("engine-{}", self.index).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("consuming {queue}"))?;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            let command = match amqp::decode::<ShardCommand>(&delivery.properties, &delivery.data) {
                Ok(command) if shard_of(command.stock_id(), self.shard_count) == self.index => {
                    command
                }
                Ok(command) => {
                    tracing::error!(
                        shard = self.index,
                        stock = command.stock_id(),
                        "a command for another shard; dead-lettered"
                    );
                    dead_letter(&delivery.acker).await?;
                    continue;
                }
                Err(error) => {
                    tracing::error!(shard = self.index, %error, "an undecodable command; dead-lettered");
                    dead_letter(&delivery.acker).await?;
                    continue;
                }
            };
            let (reply, outcome) = oneshot::channel();
            self.inputs
                .send(ShardInput::Command { command, reply })
                .await
                .map_err(|_| anyhow!("shard {} stopped", self.index))?;
            let properties = &delivery.properties;
            let pending = Pending {
                reply_to: amqp::text(properties.reply_to()).map(str::to_owned),
                correlation_id: amqp::text(properties.correlation_id()).map(str::to_owned),
                acker: delivery.acker,
                outcome,
            };
            self.pending
                .send(pending)
                .await
                .map_err(|_| anyhow!("shard {}'s publisher stopped", self.index))?;
        }
        Err(anyhow!("the consumer of {queue} was cancelled"))
    }
}

async fn dead_letter(acker: &Acker) -> anyhow::Result<()> {
    acker.reject(BasicRejectOptions { requeue: false }).await?;
    Ok(())
}

/// The publishing side.
pub(super) struct PublishOutcomes {
    pub(super) topology: Topology,
    pub(super) index: u32,
    pub(super) publisher: Publisher,
    pub(super) settled: watch::Sender<u64>,
}

impl PublishOutcomes {
    /// Publishes outcomes in order until the consuming side stops (`Ok`) or a publish fails.
    pub(super) async fn run(self, mut pending: mpsc::Receiver<Pending>) -> anyhow::Result<()> {
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        while pending.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
            self.publish_batch(&mut batch).await?;
        }
        Ok(())
    }

    /// Publishes a batch, awaits every confirm, acks every command, then advances the watermark.
    async fn publish_batch(&self, batch: &mut Vec<Pending>) -> anyhow::Result<()> {
        let exchange = self.topology.events_exchange();
        let key = Topology::outcome_key(self.index);
        let route = Route {
            exchange: &exchange,
            routing_key: &key,
            mandatory: true,
        };
        let mut confirms = Vec::with_capacity(batch.len());
        let mut last_acker = None;
        let mut through = None;
        for command in batch.drain(..) {
            let outcome = command
                .outcome
                .await
                .map_err(|_| anyhow!("shard {} stopped before its outcome", self.index))?;
            last_acker = Some(command.acker);
            if is_trimmed_duplicate(&outcome) {
                // Sequenced and handed off long ago: the broker has its outcome; just ack.
                continue;
            }
            let properties = with_reply(
                amqp::persistent_properties(),
                command.reply_to,
                command.correlation_id,
            );
            let body = contracts::amqp::encode(&outcome)?;
            confirms.push(self.publisher.send(route, &body, properties).await?);
            through = through.max(Some(outcome.sequence));
        }
        for confirm in confirms {
            confirm.confirmed().await?;
        }
        if let Some(acker) = last_acker {
            // Every earlier delivery of the channel is either in this batch or already settled
            // (dead-lettered by the consumer), so one cumulative ack covers the batch.
            acker.ack(BasicAckOptions { multiple: true }).await?;
        }
        if let Some(through) = through {
            self.settled.send_if_modified(|watermark| {
                let advanced = through > *watermark;
                *watermark = (*watermark).max(through);
                advanced
            });
        }
        Ok(())
    }
}

/// `properties` carrying a request's reply address.
pub(super) fn with_reply(
    properties: BasicProperties,
    reply_to: Option<String>,
    correlation_id: Option<String>,
) -> BasicProperties {
    let properties = match reply_to {
        Some(reply_to) => properties.with_reply_to(reply_to.into()),
        None => properties,
    };
    match correlation_id {
        Some(id) => properties.with_correlation_id(id.into()),
        None => properties,
    }
}
