//! RabbitMQ plumbing (lapin on tokio) for the distributed roles: connecting with bounded retry,
//! a publishing channel with publisher confirms, declaring the topology of
//! [`contracts::amqp::Topology`], consumer channels with a bounded prefetch, and the message
//! properties and decoding every role shares.
//!
//! Invariants: [`Publisher::publish`] returns `Ok` only when the broker confirmed the message; a
//! nack, a mandatory message returned as unroutable, or a closed channel is an `Err`. Every
//! message carries [`contracts::amqp::CONTENT_TYPE`] and the [`contracts::amqp::VERSION_HEADER`],
//! and [`decode`] refuses one without them. Declaring is idempotent (same arguments every time),
//! so every role declares everything it touches at start.
//!
//! Limits: a lost connection is not repaired in place. Publishing and consuming then fail, the
//! adapters stop and report it, and the role restarts (crash-only); unacknowledged messages are
//! redelivered by the broker and every consumer is idempotent.

use std::time::Duration;

use anyhow::{Context, anyhow};
use contracts::amqp::{self as wire, DecodeError, Topology, arguments};
use lapin::options::{
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
    PublisherConfirm,
};
use serde::de::DeserializeOwned;

pub use lapin;

/// Connection attempts before [`connect`] gives up.
pub const CONNECT_ATTEMPTS: u32 = 10;
/// The first pause between attempts; it doubles up to [`CONNECT_BACKOFF_MAX`].
pub const CONNECT_BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// The longest pause between attempts (10 attempts wait about 21 s in all).
pub const CONNECT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The largest prefetch a consumer may ask for: unacknowledged messages per channel are held in
/// memory by both ends.
pub const MAX_PREFETCH: u16 = 1024;
/// AMQP `delivery_mode` of a message the broker writes to disk.
const PERSISTENT: u8 = 2;

/// How long a stopping role waits for the broker to confirm the close of its connection.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Closes `connection` on the way out (`reason` is shown by the broker), waiting at most
/// `CLOSE_TIMEOUT` (5 s) for the broker's answer: a stop must not hang on a broker that does not
/// answer. The connection is dropped either way; the broker drops its side when the socket
/// closes.
pub async fn close(connection: &Connection, reason: &str) {
    match tokio::time::timeout(CLOSE_TIMEOUT, connection.close(200, reason.into())).await {
        Ok(_) => {}
        Err(_) => tracing::warn!(
            reason,
            "the broker did not confirm the close in time; dropping the connection"
        ),
    }
}

/// Connects to `url`, naming the connection `name` (shown by the broker's tools), retrying with
/// exponential backoff up to [`CONNECT_ATTEMPTS`] times and logging each failure.
pub async fn connect(url: &str, name: &str) -> anyhow::Result<Connection> {
    let mut pause = CONNECT_BACKOFF_FIRST;
    let mut attempt = 1;
    loop {
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        match Connection::connect(url, properties).await {
            Ok(connection) => {
                tracing::info!(name, attempt, "connected to RabbitMQ");
                return Ok(connection);
            }
            Err(error) if attempt < CONNECT_ATTEMPTS => {
                tracing::warn!(name, attempt, ?pause, %error, "RabbitMQ connection failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(CONNECT_BACKOFF_MAX);
                attempt += 1;
            }
            Err(error) => {
                return Err(anyhow!(error).context(format!(
                    "connecting {name} to RabbitMQ failed {attempt} times"
                )));
            }
        }
    }
}

/// Where a message goes.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    /// The exchange (`""` is the default exchange: the routing key is a queue name).
    pub exchange: &'a str,
    /// The routing key.
    pub routing_key: &'a str,
    /// Return the message (an `Err`) when no queue gets it.
    pub mandatory: bool,
}

/// A channel in confirm mode: every publish is acknowledged by the broker.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
}

/// A published message whose confirmation has not been awaited yet (pipelining: publish many,
/// then await their confirms in order).
pub struct PendingConfirm {
    confirm: PublisherConfirm,
    routing_key: String,
}

impl PendingConfirm {
    /// Resolves when the broker confirmed the message; a nack or a return is an `Err`.
    pub async fn confirmed(self) -> anyhow::Result<()> {
        let confirmation = self
            .confirm
            .await
            .with_context(|| format!("no confirm for a message to {}", self.routing_key))?;
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(returned)) => Err(anyhow!(
                "message to {} returned: {} {}",
                self.routing_key,
                returned.reply_code,
                returned.reply_text
            )),
            Confirmation::Nack(_) => Err(anyhow!("message to {} nacked", self.routing_key)),
            Confirmation::NotRequested => Err(anyhow!(
                "message to {} sent on a channel without confirms",
                self.routing_key
            )),
        }
    }
}

impl Publisher {
    /// Opens a channel on `connection` and puts it in confirm mode.
    pub async fn open(connection: &Connection) -> anyhow::Result<Self> {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Self { channel })
    }

    /// The channel (for declarations).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Sends a message without waiting for its confirmation.
    pub async fn send(
        &self,
        route: Route<'_>,
        body: &[u8],
        properties: BasicProperties,
    ) -> anyhow::Result<PendingConfirm> {
        let options = BasicPublishOptions {
            mandatory: route.mandatory,
            ..BasicPublishOptions::default()
        };
        let confirm = self
            .channel
            .basic_publish(
                route.exchange.into(),
                route.routing_key.into(),
                options,
                body,
                properties,
            )
            .await
            .with_context(|| format!("publishing to {}", route.routing_key))?;
        Ok(PendingConfirm {
            confirm,
            routing_key: route.routing_key.to_owned(),
        })
    }

    /// Publishes a message and returns once the broker confirmed it.
    pub async fn publish(
        &self,
        route: Route<'_>,
        body: &[u8],
        properties: BasicProperties,
    ) -> anyhow::Result<()> {
        self.send(route, body, properties).await?.confirmed().await
    }
}

/// Opens a channel for consuming with at most `prefetch` unacknowledged deliveries (clamped to
/// 1..=[`MAX_PREFETCH`]).
pub async fn consumer_channel(connection: &Connection, prefetch: u16) -> anyhow::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(prefetch.clamp(1, MAX_PREFETCH), BasicQosOptions::default())
        .await?;
    Ok(channel)
}

/// The properties every message carries: the JSON content type and the contract version.
pub fn message_properties() -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(
        wire::VERSION_HEADER.into(),
        AMQPValue::LongInt(i32::from(contracts::CONTRACT_VERSION)),
    );
    BasicProperties::default()
        .with_content_type(wire::CONTENT_TYPE.into())
        .with_headers(headers)
}

/// [`message_properties`] for a message the broker must write to disk.
pub fn persistent_properties() -> BasicProperties {
    message_properties().with_delivery_mode(PERSISTENT)
}

/// The text of a short-string property.
pub fn text(property: &Option<ShortString>) -> Option<&str> {
    property.as_ref().map(ShortString::as_str)
}

/// The contract version a message says it speaks.
pub fn version_of(properties: &BasicProperties) -> Option<i64> {
    let headers = properties.headers().as_ref()?;
    match headers.inner().get(wire::VERSION_HEADER)? {
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}

/// Checks a message's content type and version, then decodes its JSON body.
pub fn decode<T: DeserializeOwned>(
    properties: &BasicProperties,
    body: &[u8],
) -> Result<T, DecodeError> {
    wire::decode(
        text(properties.content_type()),
        version_of(properties),
        body,
    )
}

fn long(text: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(text))
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

/// Declares a durable quorum queue with a single active consumer, dead-lettering to `dlx`.
async fn declare_ordered_queue(channel: &Channel, name: &str, dlx: &str) -> anyhow::Result<()> {
    let mut args = FieldTable::default();
    args.insert(arguments::QUEUE_TYPE.into(), long("quorum"));
    args.insert(
        arguments::SINGLE_ACTIVE_CONSUMER.into(),
        AMQPValue::Boolean(true),
    );
    args.insert(arguments::DEAD_LETTER_EXCHANGE.into(), long(dlx));
    channel
        .queue_declare(name.into(), durable(), args)
        .await
        .with_context(|| format!("declaring queue {name}"))?;
    Ok(())
}

async fn declare_exchange(channel: &Channel, name: &str, kind: ExchangeKind) -> anyhow::Result<()> {
    let options = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(name.into(), kind, options, FieldTable::default())
        .await
        .with_context(|| format!("declaring exchange {name}"))
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> anyhow::Result<()> {
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("binding {queue} to {exchange} by {key}"))
}

/// Declares the exchanges, the durable queues of shards `0..shard_count` and their bindings
/// (see [`contracts::amqp`]). Idempotent: the same arguments every time.
pub async fn declare_topology(
    channel: &Channel,
    topology: &Topology,
    shard_count: u32,
) -> anyhow::Result<()> {
    let dlx = topology.dead_letter_exchange();
    let commands = topology.commands_exchange();
    let events = topology.events_exchange();
    declare_exchange(channel, &dlx, ExchangeKind::Fanout).await?;
    declare_exchange(channel, &commands, ExchangeKind::Direct).await?;
    declare_exchange(channel, &events, ExchangeKind::Topic).await?;
    let dead = topology.dead_queue();
    channel
        .queue_declare(dead.as_str().into(), durable(), FieldTable::default())
        .await
        .with_context(|| format!("declaring queue {dead}"))?;
    bind(channel, &dead, &dlx, "").await?;
    for shard in 0..shard_count.max(1) {
        let queue = topology.shard_queue(shard);
        declare_ordered_queue(channel, &queue, &dlx).await?;
        bind(channel, &queue, &commands, &Topology::command_key(shard)).await?;
        let settle = topology.settle_queue(shard);
        declare_ordered_queue(channel, &settle, &dlx).await?;
        bind(channel, &settle, &events, &Topology::outcome_key(shard)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_content_type_and_version_and_decode_checks_them() {
        let properties = persistent_properties();
        assert_eq!(
            version_of(&properties),
            Some(i64::from(contracts::CONTRACT_VERSION))
        );
        assert_eq!(*properties.delivery_mode(), Some(PERSISTENT));
        assert_eq!(decode::<Vec<u64>>(&properties, b"[1,2]"), Ok(vec![1, 2]));
        let bare = BasicProperties::default().with_content_type(wire::CONTENT_TYPE.into());
        assert!(matches!(
            decode::<Vec<u64>>(&bare, b"[1,2]"),
            Err(DecodeError::Version(None))
        ));
    }
}
