//! The RabbitMQ adapter of [`ShardRouter`]: commands go to `P.commands` / `shard.K` (persistent,
//! mandatory, confirmed) with this process's reply queue and a correlation id; the answer is the
//! settled outcome the settler sends back, so the HTTP answer still follows settlement. Best-ask
//! queries go to every engine's `P.shard.K.query` queue and are merged.
//!
//! Timeouts: a command waits [`REPLY_TIMEOUT`] (10 s) for its settled outcome. That is far above
//! the latency budget (p99 50 ms) and covers a shard or settler restart with recovery (seconds),
//! yet answers the client before a gateway's read timeout. On timeout the request is an `Err`
//! (the HTTP layer answers 500/503) although the command may still be executed: its escrow stays
//! reserved until its outcome is settled, so nothing is lost or doubled. A query waits
//! [`QUERY_TIMEOUT`] (2 s): a price list is worth little later, and queries never queue up (they
//! expire in the broker after the same time).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use contracts::amqp::{BestAsksQuery, Topology};
use contracts::embedded::BestAsk;
use contracts::{ShardCommand, ShardOutcome, shard_of};
use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection};
use platform::amqp::{self, Publisher, Route};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::domain::ports::ShardRouter;

/// How long a command waits for its settled outcome.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a best-ask query waits for every shard.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the shards are.
#[derive(Debug, Clone)]
pub struct AmqpRouterConfig {
    /// The AMQP URL.
    pub url: String,
    /// The topology prefix (`EXCHANGE_AMQP_PREFIX`).
    pub prefix: String,
    /// How many shards (`stock_id % shard_count`).
    pub shard_count: u32,
    /// How long a command waits for its settled outcome ([`REPLY_TIMEOUT`] by default).
    pub reply_timeout: Duration,
}

/// An answer on the reply queue.
struct Reply {
    properties: BasicProperties,
    body: Vec<u8>,
}

/// Requests waiting for an answer, by correlation id. A `HashMap` for point lookups only; the
/// lock is never held across an await.
#[derive(Default)]
struct Waiting {
    requests: Mutex<HashMap<String, oneshot::Sender<Reply>>>,
    /// Set when the reply consumer ended: nothing can be answered any more.
    closed: AtomicBool,
}

impl Waiting {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Reply>>> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Removes a request from [`Waiting`] when its caller stops waiting (answered, timed out,
/// failed or cancelled).
struct Registration<'a> {
    waiting: &'a Waiting,
    id: String,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.waiting.lock().remove(&self.id);
    }
}

/// Routes commands to shards over RabbitMQ.
pub struct AmqpRouter {
    /// Kept for the router's life; the connection closes when the router is dropped.
    _connection: Connection,
    publisher: Publisher,
    topology: Topology,
    shard_count: u32,
    reply_timeout: Duration,
    reply_queue: String,
    waiting: Arc<Waiting>,
    next_id: AtomicU64,
    listener: tokio::task::JoinHandle<()>,
}

impl AmqpRouter {
    /// Connects, declares the topology and this process's reply queue, and starts listening.
    pub async fn connect(config: &AmqpRouterConfig) -> anyhow::Result<Self> {
        let connection = amqp::connect(&config.url, "order-router").await?;
        let topology = Topology::new(config.prefix.clone());
        let publisher = Publisher::open(&connection).await?;
        amqp::declare_topology(publisher.channel(), &topology, config.shard_count).await?;
        let channel = connection.create_channel().await?;
        let private = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        let queue = channel
            .queue_declare("".into(), private, FieldTable::default())
            .await
            .context("declaring the reply queue")?;
        let reply_queue = queue.name().as_str().to_owned();
        let no_ack = BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        };
        let consumer = channel
            .basic_consume(
                reply_queue.as_str().into(),
                "".into(),
                no_ack,
                FieldTable::default(),
            )
            .await?;
        let waiting = Arc::new(Waiting::default());
        let listener = tokio::spawn(listen(consumer, Arc::clone(&waiting)));
        Ok(Self {
            _connection: connection,
            publisher,
            topology,
            shard_count: config.shard_count.max(1),
            reply_timeout: config.reply_timeout,
            reply_queue,
            waiting,
            next_id: AtomicU64::new(1),
            listener,
        })
    }

    /// False once the router cannot work any more (its reply consumer ended or its publishing
    /// channel closed): every request fails until the role restarts. For the role's health check.
    pub fn healthy(&self) -> bool {
        !self.waiting.closed.load(Ordering::Acquire)
            && self.publisher.channel().status().connected()
    }

    /// This process's reply queue.
    pub fn reply_queue(&self) -> &str {
        &self.reply_queue
    }

    /// Registers a request; its answer arrives on the receiver.
    fn register(&self) -> anyhow::Result<(Registration<'_>, oneshot::Receiver<Reply>)> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let (sender, receiver) = oneshot::channel();
        let mut requests = self.waiting.lock();
        // Checked under the lock the listener clears the map with, so no request is left behind.
        if self.waiting.closed.load(Ordering::Acquire) {
            return Err(anyhow!(
                "the reply queue is gone (RabbitMQ connection lost)"
            ));
        }
        requests.insert(id.clone(), sender);
        drop(requests);
        let registration = Registration {
            waiting: &self.waiting,
            id,
        };
        Ok((registration, receiver))
    }

    /// Properties asking for an answer to this process with `correlation_id`.
    fn asking(&self, properties: BasicProperties, correlation_id: &str) -> BasicProperties {
        properties
            .with_reply_to(self.reply_queue.as_str().into())
            .with_correlation_id(correlation_id.into())
    }
}

impl Drop for AmqpRouter {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Hands each answer to its waiting request until the reply consumer ends, then fails every
/// waiting request (their senders are dropped) and every later one.
async fn listen(mut consumer: lapin::Consumer, waiting: Arc<Waiting>) {
    while let Some(Ok(delivery)) = consumer.next().await {
        let Some(id) = amqp::text(delivery.properties.correlation_id()) else {
            continue;
        };
        let sender = waiting.lock().remove(id);
        match sender {
            Some(sender) => {
                let _ = sender.send(Reply {
                    properties: delivery.properties,
                    body: delivery.data,
                });
            }
            None => tracing::debug!(id, "an answer nobody waits for any more"),
        }
    }
    tracing::error!("the reply queue's consumer ended; requests fail until the role restarts");
    let mut requests = waiting.lock();
    waiting.closed.store(true, Ordering::Release);
    requests.clear();
}

fn decode<T: DeserializeOwned>(reply: &Reply) -> anyhow::Result<T> {
    Ok(amqp::decode(&reply.properties, &reply.body)?)
}

#[async_trait]
impl ShardRouter for AmqpRouter {
    async fn execute(&self, command: ShardCommand) -> anyhow::Result<ShardOutcome> {
        let shard = shard_of(command.stock_id(), self.shard_count);
        let (registration, answer) = self.register()?;
        let exchange = self.topology.commands_exchange();
        let key = Topology::command_key(shard);
        let route = Route {
            exchange: &exchange,
            routing_key: &key,
            mandatory: true,
        };
        let properties = self.asking(amqp::persistent_properties(), &registration.id);
        let body = contracts::amqp::encode(&command)?;
        self.publisher
            .publish(route, &body, properties)
            .await
            .with_context(|| format!("sending a command to shard {shard}"))?;
        let reply = tokio::time::timeout(self.reply_timeout, answer)
            .await
            .map_err(|_| {
                anyhow!(
                    "shard {shard}'s settled outcome did not arrive within {:?}",
                    self.reply_timeout
                )
            })?
            .map_err(|_| anyhow!("the reply queue is gone (RabbitMQ connection lost)"))?;
        decode(&reply)
    }

    async fn best_asks(&self) -> anyhow::Result<Vec<BestAsk>> {
        let body = contracts::amqp::encode(&BestAsksQuery::default())?;
        let expiration = QUERY_TIMEOUT.as_millis().to_string();
        let mut answers = Vec::new();
        for shard in 0..self.shard_count {
            let (registration, answer) = self.register()?;
            let queue = self.topology.query_queue(shard);
            let route = Route {
                exchange: "",
                routing_key: &queue,
                mandatory: true,
            };
            let properties = self
                .asking(amqp::message_properties(), &registration.id)
                .with_expiration(expiration.as_str().into());
            self.publisher
                .publish(route, &body, properties)
                .await
                .with_context(|| format!("asking shard {shard} (is its engine running?)"))?;
            answers.push((shard, registration, answer));
        }
        let mut asks = Vec::new();
        let gathered = tokio::time::timeout(QUERY_TIMEOUT, async {
            for (shard, _registration, answer) in answers {
                let reply = answer
                    .await
                    .map_err(|_| anyhow!("the reply queue is gone (shard {shard})"))?;
                asks.extend(decode::<Vec<BestAsk>>(&reply)?);
            }
            anyhow::Ok(())
        })
        .await;
        gathered.map_err(|_| {
            anyhow!("the shards' best asks did not arrive within {QUERY_TIMEOUT:?}")
        })??;
        Ok(asks)
    }
}
