//! A running shard: one thread, the single writer of its books and of its store. It drains a
//! batch of inputs, sequences and matches them all, commits once, then hands each outcome to
//! settlement (in sequence order) and answers the queries of the batch.
//!
//! A place whose order ref the shard already sequenced (a redelivery: the distributed engine died
//! after its commit but before its ack, or the order role published again after a lost confirm)
//! is never placed again: it is answered with its logged outcome. Cancels are not deduplicated:
//! a repeated cancel finds the order no longer open and is rejected, which changes nothing.
//!
//! An expire ([`contracts::ExpireOrder`]) is decided by the same order-ref table: a ref already
//! sequenced (placed, or expired before) makes it a rejection with no effect; an unknown ref is
//! recorded as sequenced by the expire (same commit), which ends the order unplaced, so a place
//! with that ref arriving later is answered with the expire's outcome and never placed.

use contracts::embedded::{BestAsk, Delivery, DeliverySender, ShardInput};
use contracts::{ShardCommand, ShardOutcome};
use platform::clock::SharedClock;
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot, watch};

use crate::domain::translate;
use crate::state::ShardState;
use crate::store::{Batch, ShardStore};

/// Inputs handled in one commit at most.
const MAX_BATCH: usize = 1024;
/// Commands between two books snapshots at least (the whole store's journal snapshot follows the
/// journal's growth instead: see [`crate::store`]).
const SNAPSHOT_EVERY: u64 = 20_000;
/// Commands between two hash checkpoints at least.
const HASH_EVERY: u64 = 1_000;
/// A books snapshot and a hash checkpoint each walk every live order on the shard's thread
/// (about 1 µs an order: 50 ms at 50k orders, while every command of the shard waits). So
/// beyond their floors they come at least this many times the live orders apart: each walk is
/// amortized O(1) per command, and the share of commands held up by one stays under a few per
/// mille at any depth. The price is the replay after a restart, at most this many times the
/// live orders (matching runs some 20 M commands/s), and the log kept in memory until then.
const WALK_SPACING: u64 = 4;
/// Books with fewer live orders than this are walked in a millisecond or so: their walks keep
/// their floors (so a shard of a few hundred orders still checkpoints its hash every
/// `HASH_EVERY` commands, which recovery checks).
const QUICK_WALK_ORDERS: u64 = 4_096;

/// A shard ready to run.
pub struct Shard {
    /// The shard index.
    pub index: u32,
    pub(crate) state: ShardState,
    pub(crate) store: ShardStore,
    pub(crate) clock: SharedClock,
}

/// How a command of a batch is answered.
enum Answer {
    /// By an entry of this batch (new, or the first copy of a ref placed twice in the batch).
    Entry(usize),
    /// By an outcome committed earlier (a redelivered place).
    Logged(ShardOutcome),
}

struct Loop {
    shard: Shard,
    deliveries: DeliverySender,
    settled: watch::Receiver<u64>,
    last_snapshot: u64,
    last_hash: u64,
}

impl Shard {
    /// Starts the shard thread; it stops when every sender of `inputs` is dropped.
    pub fn spawn(
        self,
        inputs: mpsc::Receiver<ShardInput>,
        deliveries: DeliverySender,
        settled: watch::Receiver<u64>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let last_snapshot = self.state.sequence();
        let name = format!("shard-{}", self.index);
        let last_hash = last_snapshot;
        let runner = Loop {
            shard: self,
            deliveries,
            settled,
            last_snapshot,
            last_hash,
        };
        std::thread::Builder::new().name(name).spawn(move || {
            // It writes and syncs its own journal: every command of its shard waits for it.
            platform::priority::durable_path();
            runner.run(inputs);
        })
    }
}

impl Loop {
    fn run(mut self, mut inputs: mpsc::Receiver<ShardInput>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = inputs.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match inputs.try_recv() {
                    Ok(input) => batch.push(input),
                    Err(_) => break,
                }
            }
            if !self.handle(&mut batch) {
                return;
            }
        }
        tracing::info!(
            shard = self.shard.index,
            sequence = self.shard.state.sequence(),
            state_hash = format!("{:#018x}", self.shard.state.state_hash()),
            "shard stopped"
        );
    }

    /// Runs one batch; false when the store failed or settlement is gone (the shard stops;
    /// recovery takes over).
    fn handle(&mut self, batch: &mut Vec<ShardInput>) -> bool {
        let mut entries = Vec::with_capacity(batch.len());
        let mut answers = Vec::with_capacity(batch.len());
        let mut queries: Vec<oneshot::Sender<Vec<BestAsk>>> = Vec::new();
        // Refs placed (or expired) by this batch -> their entry (a copy delivered twice within
        // one batch, or a place behind the expire of its ref).
        let mut placed: FxHashMap<u64, usize> = FxHashMap::default();
        for input in batch.drain(..) {
            match input {
                ShardInput::Command { command, reply } => {
                    let answer = match command {
                        ShardCommand::Place(place) => {
                            let order_ref = place.order_ref;
                            let earlier = self.shard.store.sequence_of(order_ref);
                            match (earlier, placed.get(&order_ref)) {
                                (Some(sequence), _) => {
                                    Answer::Logged(self.logged(sequence, command))
                                }
                                (None, Some(index)) => Answer::Entry(*index),
                                (None, None) => {
                                    let now = self.shard.clock.now_ns();
                                    entries.push(self.shard.state.process(command, now));
                                    placed.insert(order_ref, entries.len() - 1);
                                    Answer::Entry(entries.len() - 1)
                                }
                            }
                        }
                        ShardCommand::Expire(expire) => {
                            let order_ref = expire.order_ref;
                            let in_batch = placed
                                .get(&order_ref)
                                .and_then(|index| entries.get(*index))
                                .map(|(logged, _)| logged.sequence);
                            let earlier = self.shard.store.sequence_of(order_ref).or(in_batch);
                            let now = self.shard.clock.now_ns();
                            let entry = self.shard.state.process_after(command, now, earlier);
                            entries.push(entry);
                            if earlier.is_none() {
                                // Took effect: a place with this ref later in the batch gets
                                // this outcome.
                                placed.insert(order_ref, entries.len() - 1);
                            }
                            Answer::Entry(entries.len() - 1)
                        }
                        ShardCommand::Cancel(_) => {
                            let now = self.shard.clock.now_ns();
                            entries.push(self.shard.state.process(command, now));
                            Answer::Entry(entries.len() - 1)
                        }
                    };
                    answers.push((answer, reply));
                }
                ShardInput::BestAsks(reply) => queries.push(reply),
            }
        }
        if !entries.is_empty() && !self.commit(&entries) {
            return false;
        }
        for (answer, reply) in answers {
            let outcome = match answer {
                Answer::Entry(index) => match entries.get(index) {
                    Some((_, outcome)) => outcome.clone(),
                    None => return false,
                },
                Answer::Logged(outcome) => outcome,
            };
            let delivery = Delivery {
                outcome,
                reply: Some(reply),
            };
            if self.deliveries.blocking_send(delivery).is_err() {
                tracing::warn!(shard = self.shard.index, "settlement is gone; stopping");
                return false;
            }
        }
        if !queries.is_empty() {
            let asks = self.best_asks();
            for query in queries {
                let _ = query.send(asks.clone());
            }
        }
        true
    }

    /// True when a walk of the books last done at sequence `last` is due again: `floor`
    /// commands later, further on deep books ([`walk_interval`]). The live orders are counted
    /// (per book, not per order) only once the floor is passed.
    fn walk_due(&self, last: u64, floor: u64) -> bool {
        let since = self.shard.state.sequence() - last;
        since >= floor && {
            let live: usize = (self.shard.state.engine().books())
                .map(|book| book.resting_count() + book.waiting_stop_count())
                .sum();
            since >= walk_interval(floor, live)
        }
    }

    /// The answer to a place redelivered after it was sequenced at `sequence`: its logged
    /// outcome, or, once the log no longer holds it (handed off and snapshotted long ago), a
    /// marker outcome ([`translate::trimmed_duplicate`]) that carries no effect.
    fn logged(&self, sequence: u64, command: ShardCommand) -> ShardOutcome {
        tracing::info!(
            shard = self.shard.index,
            sequence,
            "a sequenced place arrived again; answering with its outcome"
        );
        self.shard
            .store
            .outcome_at(sequence)
            .unwrap_or_else(|| translate::trimmed_duplicate(self.shard.index, sequence, command))
    }

    fn commit(
        &mut self,
        entries: &[(crate::state::LoggedCommand, contracts::ShardOutcome)],
    ) -> bool {
        let settled = *self.settled.borrow();
        let sequence = self.shard.state.sequence();
        // A journal snapshot carries a fresh books snapshot, so the log it keeps is short.
        let compact = self.shard.store.wants_snapshot();
        let snapshot = (compact || self.walk_due(self.last_snapshot, SNAPSHOT_EVERY))
            .then(|| self.shard.state.snapshot());
        let checkpoint = snapshot.is_some() || self.walk_due(self.last_hash, HASH_EVERY);
        // A books snapshot is hashed as it is, not by walking the books a second time.
        let state_hash = checkpoint.then(|| match &snapshot {
            Some(snapshot) => (sequence, snapshot.engine.state_hash()),
            None => (sequence, self.shard.state.state_hash()),
        });
        let batch = Batch {
            entries,
            state_hash,
            settled,
            snapshot: snapshot.as_ref(),
            compact,
        };
        if let Err(error) = self.shard.store.write(&batch) {
            tracing::error!(
                shard = self.shard.index,
                ?error,
                "shard commit failed; the shard stops"
            );
            return false;
        }
        if snapshot.is_some() {
            self.last_snapshot = sequence;
        }
        if checkpoint {
            self.last_hash = sequence;
        }
        true
    }

    fn best_asks(&self) -> Vec<BestAsk> {
        self.shard
            .state
            .engine()
            .books()
            .filter_map(|book| {
                book.best_ask().map(|level| BestAsk {
                    stock_id: book.stock_id().0,
                    price_cents: level.price.0,
                })
            })
            .collect()
    }
}

/// Commands between two walks of books holding `live_orders`: `floor`, or on books past
/// [`QUICK_WALK_ORDERS`], [`WALK_SPACING`] times the live orders if more.
pub(crate) fn walk_interval(floor: u64, live_orders: usize) -> u64 {
    let live = u64::try_from(live_orders).unwrap_or(u64::MAX);
    match live < QUICK_WALK_ORDERS {
        true => floor,
        false => floor.max(live.saturating_mul(WALK_SPACING)),
    }
}
