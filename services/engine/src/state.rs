//! The in-memory state of one shard: its engine, the live order refs and its counters. The same
//! `execute` runs live commands and replays logged ones, so recovery is deterministic.

use contracts::{CommandResult, EndReason, OrderEnded, ShardCommand, ShardOutcome};
use matching::{Engine, EngineSnapshot, Event};
use serde::{Deserialize, Serialize};

use crate::domain::refs::{OrderRefs, OrderRefsSnapshot};
use crate::domain::translate;

/// The start of the reason an expire is rejected with: the shard had sequenced its order.
pub const EXPIRE_TOO_LATE: &str = "the order was already sequenced";

/// A sequenced command as the log keeps it: everything needed to replay it exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedCommand {
    /// The shard sequence.
    pub sequence: u64,
    /// The shard clock when sequenced.
    pub timestamp_ns: u64,
    /// The core order id assigned to a place (0 for a cancel). For an expire: the sequence of
    /// the command that had already carried its order ref when it was sequenced, 0 when none
    /// had (the expire took effect). Logged, so replay gives the same outcome whatever the
    /// order-ref table holds by then (the field keeps the log's encoding unchanged).
    pub core_order_id: u64,
    /// The command.
    pub command: ShardCommand,
}

/// The persisted state of a shard at a sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardSnapshot {
    /// The last sequence included.
    pub sequence: u64,
    /// The next core order id.
    pub next_order_id: u64,
    /// The books.
    pub engine: EngineSnapshot,
    /// Live order refs.
    pub refs: OrderRefsSnapshot,
}

/// One shard's state.
pub struct ShardState {
    index: u32,
    engine: Engine,
    refs: OrderRefs,
    sequence: u64,
    next_order_id: u64,
    events: Vec<Event>,
}

impl ShardState {
    /// An empty shard.
    pub fn new(index: u32) -> Self {
        Self {
            index,
            engine: Engine::new(),
            refs: OrderRefs::default(),
            sequence: 0,
            next_order_id: 1,
            events: Vec::new(),
        }
    }

    /// The shard as of `snapshot`.
    pub fn restore(index: u32, snapshot: &ShardSnapshot) -> Self {
        Self {
            index,
            engine: Engine::restore(&snapshot.engine),
            refs: OrderRefs::restore(&snapshot.refs),
            sequence: snapshot.sequence,
            next_order_id: snapshot.next_order_id,
            events: Vec::new(),
        }
    }

    /// The persisted form of the current state.
    pub fn snapshot(&self) -> ShardSnapshot {
        ShardSnapshot {
            sequence: self.sequence,
            next_order_id: self.next_order_id,
            engine: self.engine.snapshot(),
            refs: self.refs.snapshot(),
        }
    }

    /// The last sequence assigned.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The next core order id.
    pub fn next_order_id(&self) -> u64 {
        self.next_order_id
    }

    /// The books' fingerprint.
    pub fn state_hash(&self) -> u64 {
        self.engine.state_hash()
    }

    /// The engine, for read-only queries.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Sequences a new command and runs it (an expire as one whose ref was never sequenced).
    pub fn process(
        &mut self,
        command: ShardCommand,
        timestamp_ns: u64,
    ) -> (LoggedCommand, ShardOutcome) {
        self.process_after(command, timestamp_ns, None)
    }

    /// Sequences a new command and runs it; `earlier` is the sequence of the command that
    /// already carried its order ref, if any (the shard's order-ref table; only an expire uses
    /// it: rejected when `Some`).
    pub fn process_after(
        &mut self,
        command: ShardCommand,
        timestamp_ns: u64,
        earlier: Option<u64>,
    ) -> (LoggedCommand, ShardOutcome) {
        let core_order_id = match command {
            ShardCommand::Place(_) => self.next_order_id,
            ShardCommand::Cancel(_) => 0,
            ShardCommand::Expire(_) => earlier.unwrap_or(0),
        };
        let logged = LoggedCommand {
            sequence: self.sequence + 1,
            timestamp_ns,
            core_order_id,
            command,
        };
        let outcome = self.execute(&logged);
        (logged, outcome)
    }

    /// Runs a logged command (live or replayed).
    pub fn execute(&mut self, logged: &LoggedCommand) -> ShardOutcome {
        self.sequence = logged.sequence;
        let mut outcome = translate::empty_outcome(
            self.index,
            logged.sequence,
            logged.timestamp_ns,
            logged.command,
        );
        self.events.clear();
        match &logged.command {
            ShardCommand::Place(place) => {
                self.next_order_id = self.next_order_id.max(logged.core_order_id + 1);
                self.refs.insert(logged.core_order_id, place.order_ref);
                let command = translate::place_command(
                    place,
                    logged.core_order_id,
                    logged.sequence,
                    logged.timestamp_ns,
                );
                self.engine.apply(&command, &mut self.events);
            }
            ShardCommand::Cancel(cancel) => match self.refs.core_id(cancel.order_ref) {
                Some(core_id) => {
                    let command = translate::cancel_command(
                        cancel,
                        core_id,
                        logged.sequence,
                        logged.timestamp_ns,
                    );
                    self.engine.apply(&command, &mut self.events);
                }
                None => {
                    outcome.result = CommandResult::Rejected {
                        reason: "the order is not open".to_owned(),
                    };
                }
            },
            // Never touches the books: the decision was taken when it was sequenced.
            ShardCommand::Expire(expire) => match logged.core_order_id {
                0 => outcome.ended.push(OrderEnded {
                    order_ref: expire.order_ref,
                    user_id: expire.user_id,
                    reason: EndReason::Expired,
                    filled: 0,
                    remaining: 0,
                }),
                earlier => {
                    outcome.result = CommandResult::Rejected {
                        reason: format!(
                            "{EXPIRE_TOO_LATE} (order {} at sequence {earlier})",
                            expire.order_ref
                        ),
                    };
                }
            },
        }
        translate::fold_events(&self.events, &mut self.refs, &mut outcome);
        outcome
    }
}
