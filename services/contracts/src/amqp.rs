//! The RabbitMQ form of the contracts: topology names derived from one prefix, the message
//! encoding (JSON bodies, a content type and a `contract-version` header checked on receive) and
//! the names of the properties that carry a reply.
//!
//! Topology for prefix `P` and shard `K` (every role declares all of it; declaring is idempotent):
//! - exchange `P.commands` (direct): commands, routing key `shard.K` -> queue `P.shard.K`;
//! - exchange `P.events` (topic): outcomes, routing key `outcome.shard.K` -> queue
//!   `P.settle.shard.K` (and any other subscriber that binds `outcome.#`);
//! - exchange `P.dlx` (fanout) -> queue `P.dead`: what a consumer rejected (undecodable, wrong
//!   version, wrong shard);
//! - `P.shard.K` and `P.settle.shard.K` are durable quorum queues with a single active consumer
//!   (so one engine and one settler per shard at a time, in queue order) dead-lettering to `P.dlx`;
//! - `P.shard.K.query`: the engine's own non-durable request-reply queue for best-ask queries.
//!
//! Replies (settled outcomes, query answers) go through the default exchange to the requester's
//! `reply_to` queue with the request's `correlation_id`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::CONTRACT_VERSION;

/// The content type of every body.
pub const CONTENT_TYPE: &str = "application/json";
/// The header carrying [`CONTRACT_VERSION`] (an integer).
pub const VERSION_HEADER: &str = "contract-version";
/// `x-` argument names used by the queues.
pub mod arguments {
    /// Queue type (`quorum`).
    pub const QUEUE_TYPE: &str = "x-queue-type";
    /// One consumer at a time gets the messages, in order.
    pub const SINGLE_ACTIVE_CONSUMER: &str = "x-single-active-consumer";
    /// Where rejected messages go.
    pub const DEAD_LETTER_EXCHANGE: &str = "x-dead-letter-exchange";
}

/// The names of one deployment's exchanges, queues and routing keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
}

impl Topology {
    /// The topology whose names start with `prefix` (e.g. `exchange`).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The direct exchange commands are published to.
    pub fn commands_exchange(&self) -> String {
        format!("{}.commands", self.prefix)
    }

    /// The topic exchange outcomes are published to.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    /// The fanout dead-letter exchange.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.prefix)
    }

    /// The queue holding every dead-lettered message.
    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// Shard `shard`'s command queue.
    pub fn shard_queue(&self, shard: u32) -> String {
        format!("{}.shard.{shard}", self.prefix)
    }

    /// Shard `shard`'s best-ask query queue (non-durable, owned by the running engine).
    pub fn query_queue(&self, shard: u32) -> String {
        format!("{}.shard.{shard}.query", self.prefix)
    }

    /// The settlement queue of shard `shard`'s outcomes.
    pub fn settle_queue(&self, shard: u32) -> String {
        format!("{}.settle.shard.{shard}", self.prefix)
    }

    /// The routing key of commands to shard `shard`.
    pub fn command_key(shard: u32) -> String {
        format!("shard.{shard}")
    }

    /// The routing key of shard `shard`'s outcomes.
    pub fn outcome_key(shard: u32) -> String {
        format!("outcome.shard.{shard}")
    }
}

/// Why a received message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The content type is missing or not [`CONTENT_TYPE`].
    ContentType(Option<String>),
    /// The version header is missing or not [`CONTRACT_VERSION`].
    Version(Option<i64>),
    /// The body is not the expected JSON.
    Body(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ContentType(found) => {
                write!(f, "content type {found:?}, expected {CONTENT_TYPE}")
            }
            Self::Version(found) => write!(
                f,
                "{VERSION_HEADER} {found:?}, this process speaks {CONTRACT_VERSION}"
            ),
            Self::Body(error) => write!(f, "undecodable body: {error}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The JSON body of `message`.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(message)
}

/// Checks the content type and version a message arrived with, then decodes its body.
pub fn decode<T: DeserializeOwned>(
    content_type: Option<&str>,
    version: Option<i64>,
    body: &[u8],
) -> Result<T, DecodeError> {
    if content_type != Some(CONTENT_TYPE) {
        return Err(DecodeError::ContentType(content_type.map(str::to_owned)));
    }
    if version != Some(i64::from(CONTRACT_VERSION)) {
        return Err(DecodeError::Version(version));
    }
    serde_json::from_slice(body).map_err(|e| DecodeError::Body(e.to_string()))
}

/// The body of a best-ask query (it has no parameters; an object leaves room for some).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct BestAsksQuery {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::BestAsk;

    #[test]
    fn names_follow_the_prefix() {
        let topology = Topology::new("x");
        assert_eq!(topology.commands_exchange(), "x.commands");
        assert_eq!(topology.events_exchange(), "x.events");
        assert_eq!(topology.dead_letter_exchange(), "x.dlx");
        assert_eq!(topology.dead_queue(), "x.dead");
        assert_eq!(topology.shard_queue(3), "x.shard.3");
        assert_eq!(topology.query_queue(3), "x.shard.3.query");
        assert_eq!(topology.settle_queue(3), "x.settle.shard.3");
        assert_eq!(Topology::command_key(3), "shard.3");
        assert_eq!(Topology::outcome_key(3), "outcome.shard.3");
    }

    #[test]
    fn decode_checks_content_type_and_version() {
        let asks = vec![BestAsk {
            stock_id: 1,
            price_cents: 250,
        }];
        let body = encode(&asks).unwrap_or_default();
        let version = Some(i64::from(CONTRACT_VERSION));
        assert_eq!(
            decode::<Vec<BestAsk>>(Some(CONTENT_TYPE), version, &body),
            Ok(asks)
        );
        assert!(matches!(
            decode::<Vec<BestAsk>>(None, version, &body),
            Err(DecodeError::ContentType(None))
        ));
        assert!(matches!(
            decode::<Vec<BestAsk>>(Some(CONTENT_TYPE), Some(99), &body),
            Err(DecodeError::Version(Some(99)))
        ));
        assert!(matches!(
            decode::<Vec<BestAsk>>(Some(CONTENT_TYPE), None, &body),
            Err(DecodeError::Version(None))
        ));
        assert!(matches!(
            decode::<Vec<BestAsk>>(Some(CONTENT_TYPE), version, b"{"),
            Err(DecodeError::Body(_))
        ));
    }
}
