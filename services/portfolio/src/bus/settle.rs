//! The settler of one shard.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use contracts::ShardOutcome;
use futures_util::{FutureExt, StreamExt};
use lapin::Acker;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use platform::amqp::{self, Publisher, Route};

use super::SETTLE_PREFETCH;
use crate::domain::ports::PortfolioStore;

/// The pause before an outcome after a gap is handed back (so a gap is not a hot loop).
const GAP_BACKOFF: Duration = Duration::from_millis(200);

pub(super) struct Settler {
    pub(super) shard: u32,
    pub(super) queue: String,
    pub(super) store: Arc<dyn PortfolioStore>,
    pub(super) replies: Publisher,
}

/// An outcome received, with where its answer goes.
pub(super) struct Received {
    pub(super) acker: Acker,
    pub(super) reply_to: Option<String>,
    pub(super) correlation_id: Option<String>,
    pub(super) outcome: ShardOutcome,
}

/// What a batch does with each outcome.
#[derive(Default)]
pub(super) struct Plan {
    /// Outcomes to apply, in sequence order.
    pub(super) apply: Vec<ShardOutcome>,
    /// Acked and answered after the commit (applied now or before).
    pub(super) done: Vec<Received>,
    /// After a gap: handed back.
    pub(super) requeue: Vec<Received>,
}

impl Settler {
    /// Consumes the shard's settlement queue on `channel` until it fails.
    pub(super) async fn run(self, channel: lapin::Channel) -> anyhow::Result<()> {
        let mut consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                format!("settle-{}", self.shard).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("consuming {}", self.queue))?;
        let mut batch = Vec::with_capacity(usize::from(SETTLE_PREFETCH));
        while let Some(first) = consumer.next().await {
            batch.push(first?);
            // Take what already arrived, without waiting for more.
            while batch.len() < usize::from(SETTLE_PREFETCH) {
                match consumer.next().now_or_never() {
                    Some(Some(delivery)) => batch.push(delivery?),
                    _ => break,
                }
            }
            self.settle(&mut batch).await?;
        }
        Err(anyhow!("the consumer of {} was cancelled", self.queue))
    }

    async fn settle(&self, batch: &mut Vec<Delivery>) -> anyhow::Result<()> {
        let mut received = Vec::with_capacity(batch.len());
        for delivery in batch.drain(..) {
            match amqp::decode::<ShardOutcome>(&delivery.properties, &delivery.data) {
                Ok(outcome) if outcome.shard == self.shard => received.push(Received {
                    reply_to: amqp::text(delivery.properties.reply_to()).map(str::to_owned),
                    correlation_id: amqp::text(delivery.properties.correlation_id())
                        .map(str::to_owned),
                    acker: delivery.acker,
                    outcome,
                }),
                Ok(outcome) => {
                    tracing::error!(queue = %self.queue, from = outcome.shard, "an outcome of another shard; dead-lettered");
                    delivery
                        .acker
                        .reject(BasicRejectOptions { requeue: false })
                        .await?;
                }
                Err(error) => {
                    tracing::error!(queue = %self.queue, %error, "an undecodable outcome; dead-lettered");
                    delivery
                        .acker
                        .reject(BasicRejectOptions { requeue: false })
                        .await?;
                }
            }
        }
        let applied = self.store.applied_through(self.shard).await?;
        let plan = plan(applied, received);
        if !plan.apply.is_empty() {
            self.store.settle(plan.apply).await?;
        }
        for done in &plan.done {
            done.acker.ack(BasicAckOptions::default()).await?;
        }
        if !plan.requeue.is_empty() {
            let sequences: Vec<u64> = plan.requeue.iter().map(|r| r.outcome.sequence).collect();
            tracing::warn!(queue = %self.queue, applied, ?sequences, "outcomes after a gap; handed back");
            tokio::time::sleep(GAP_BACKOFF).await;
            for held in &plan.requeue {
                held.acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        multiple: false,
                    })
                    .await?;
            }
        }
        self.answer(plan.done).await;
        Ok(())
    }

    /// Sends each settled outcome to whoever waits for it. Not mandatory, and a failure is only
    /// logged: the requester may be gone (it then answered its client with an error already).
    async fn answer(&self, done: Vec<Received>) {
        let mut confirms = Vec::new();
        for received in done {
            let (Some(reply_to), Some(correlation_id)) =
                (received.reply_to, received.correlation_id)
            else {
                continue;
            };
            let route = Route {
                exchange: "",
                routing_key: &reply_to,
                mandatory: false,
            };
            let properties = amqp::message_properties().with_correlation_id(correlation_id.into());
            let sent = match contracts::amqp::encode(&received.outcome) {
                Ok(body) => self.replies.send(route, &body, properties).await,
                Err(error) => Err(error.into()),
            };
            match sent {
                Ok(confirm) => confirms.push(confirm),
                Err(error) => {
                    tracing::warn!(%reply_to, ?error, "a settled outcome's answer was not sent")
                }
            }
        }
        for confirm in confirms {
            if let Err(error) = confirm.confirmed().await {
                tracing::warn!(?error, "a settled outcome's answer was not confirmed");
            }
        }
    }
}

/// Sorts a batch into what to apply (the run from `applied + 1`), what was applied before, and
/// what lies after a gap.
///
/// A gap cannot normally happen: the engine publishes its outcomes in sequence order on one
/// confirmed channel and advances only after the confirms, the broker keeps a queue's order, a
/// single active consumer takes them, and after a restart the engine publishes everything after
/// its confirmed watermark again before anything new. Copies after a redelivery may arrive out
/// of order, which the sort within the batch absorbs. A real gap means a lost message (a purged
/// or deleted queue) or two engines for one shard: the outcome is handed back and logged, never
/// applied out of order.
pub(super) fn plan(applied: u64, mut received: Vec<Received>) -> Plan {
    received.sort_by_key(|r| r.outcome.sequence);
    let mut next = applied.saturating_add(1);
    let mut plan = Plan::default();
    for item in received {
        let sequence = item.outcome.sequence;
        if sequence < next {
            plan.done.push(item);
        } else if sequence == next {
            plan.apply.push(item.outcome.clone());
            plan.done.push(item);
            next = next.saturating_add(1);
        } else {
            plan.requeue.push(item);
        }
    }
    plan
}
