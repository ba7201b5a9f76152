//! Best-ask queries on the engine's own request-reply queue `P.shard.K.query`: exclusive to this
//! connection and deleted with it, so a query to a shard that is down is returned to the asker
//! at once (it publishes as mandatory) instead of waiting in a queue.

use anyhow::{Context, anyhow};
use contracts::amqp::BestAsksQuery;
use contracts::embedded::ShardInput;
use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use platform::amqp::{self, Publisher, Route};
use tokio::sync::{mpsc, oneshot};

use super::commands::with_reply;

/// Answers queries until the consumer ends.
pub(super) async fn answer(
    channel: lapin::Channel,
    queue: String,
    inputs: mpsc::Sender<ShardInput>,
    publisher: Publisher,
) -> anyhow::Result<()> {
    let options = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.as_str().into(), options, FieldTable::default())
        .await
        .with_context(|| format!("declaring {queue} (is another engine serving this shard?)"))?;
    let no_ack = BasicConsumeOptions {
        no_ack: true,
        ..BasicConsumeOptions::default()
    };
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            no_ack,
            FieldTable::default(),
        )
        .await?;
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        let properties = &delivery.properties;
        let Some(reply_to) = amqp::text(properties.reply_to()).map(str::to_owned) else {
            tracing::warn!(%queue, "a query without reply_to; ignored");
            continue;
        };
        if let Err(error) = amqp::decode::<BestAsksQuery>(properties, &delivery.data) {
            tracing::warn!(%queue, %error, "an undecodable query; ignored");
            continue;
        }
        let (reply, asks) = oneshot::channel();
        inputs
            .send(ShardInput::BestAsks(reply))
            .await
            .map_err(|_| anyhow!("the shard stopped"))?;
        let asks = asks.await?;
        let correlation_id = amqp::text(properties.correlation_id()).map(str::to_owned);
        let route = Route {
            exchange: "",
            routing_key: &reply_to,
            mandatory: false,
        };
        let body = contracts::amqp::encode(&asks)?;
        let properties = with_reply(amqp::message_properties(), None, correlation_id);
        publisher.publish(route, &body, properties).await?;
    }
    Err(anyhow!("the consumer of {queue} was cancelled"))
}
