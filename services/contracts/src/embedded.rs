//! The in-process transport of embedded mode: a bounded channel into each shard, and the stream
//! of outcomes out of it, each with the reply of the request that caused it (if any). The reply
//! is sent only after the outcome is settled, so the HTTP answer follows settlement.

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::{ShardCommand, ShardOutcome};

/// The best ask of one book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BestAsk {
    /// The book.
    pub stock_id: u64,
    /// Its lowest resting ask, in cents.
    pub price_cents: u64,
}

/// What goes into a shard.
#[derive(Debug)]
pub enum ShardInput {
    /// A command; `reply` gets its outcome once settled.
    Command {
        /// The command.
        command: ShardCommand,
        /// Where the settled outcome goes.
        reply: oneshot::Sender<ShardOutcome>,
    },
    /// The best ask of every book of the shard (after every command before it is durable).
    BestAsks(oneshot::Sender<Vec<BestAsk>>),
}

/// An outcome on its way to settlement, with the waiting request if any.
#[derive(Debug)]
pub struct Delivery {
    /// What the command did.
    pub outcome: ShardOutcome,
    /// The request waiting for it (none when replayed after a restart).
    pub reply: Option<oneshot::Sender<ShardOutcome>>,
}

/// The sending end of a shard's input.
pub type ShardSender = mpsc::Sender<ShardInput>;
/// The sending end of a shard's outcomes.
pub type DeliverySender = mpsc::Sender<Delivery>;
