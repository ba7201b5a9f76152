//! A running shard: one thread, the single writer of its books and of its store. It drains a
//! batch of inputs, sequences and matches them all, commits once, then hands each outcome to
//! settlement (in sequence order) and answers the queries of the batch.

use contracts::embedded::{BestAsk, Delivery, DeliverySender, ShardInput};
use platform::clock::SharedClock;
use tokio::sync::{mpsc, oneshot, watch};

use crate::state::ShardState;
use crate::store::{Batch, ShardStore};

/// Inputs handled in one commit at most.
const MAX_BATCH: usize = 1024;
/// Commands between two snapshots.
const SNAPSHOT_EVERY: u64 = 20_000;
/// Commands between two hash checkpoints (hashing walks every book: O(resting orders)).
const HASH_EVERY: u64 = 1_000;

/// A shard ready to run.
pub struct Shard {
    /// The shard index.
    pub index: u32,
    pub(crate) state: ShardState,
    pub(crate) store: ShardStore,
    pub(crate) clock: SharedClock,
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
        std::thread::Builder::new()
            .name(name)
            .spawn(move || runner.run(inputs))
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
    }

    /// Runs one batch; false when the store failed (the shard stops; recovery takes over).
    fn handle(&mut self, batch: &mut Vec<ShardInput>) -> bool {
        let mut entries = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut queries: Vec<oneshot::Sender<Vec<BestAsk>>> = Vec::new();
        for input in batch.drain(..) {
            match input {
                ShardInput::Command { command, reply } => {
                    let now = self.shard.clock.now_ns();
                    entries.push(self.shard.state.process(command, now));
                    replies.push(reply);
                }
                ShardInput::BestAsks(reply) => queries.push(reply),
            }
        }
        if !entries.is_empty() && !self.commit(&entries) {
            return false;
        }
        for ((_, outcome), reply) in entries.into_iter().zip(replies) {
            if self
                .deliveries
                .blocking_send(Delivery {
                    outcome,
                    reply: Some(reply),
                })
                .is_err()
            {
                tracing::warn!(shard = self.shard.index, "settlement is gone; stopping");
                return false;
            }
        }
        let asks = self.best_asks();
        for query in queries {
            let _ = query.send(asks.clone());
        }
        true
    }

    fn commit(
        &mut self,
        entries: &[(crate::state::LoggedCommand, contracts::ShardOutcome)],
    ) -> bool {
        let settled = *self.settled.borrow();
        let sequence = self.shard.state.sequence();
        let snapshot =
            (sequence - self.last_snapshot >= SNAPSHOT_EVERY).then(|| self.shard.state.snapshot());
        let checkpoint = snapshot.is_some() || sequence - self.last_hash >= HASH_EVERY;
        let state_hash = checkpoint.then(|| (sequence, self.shard.state.state_hash()));
        let batch = Batch {
            entries,
            state_hash,
            settled,
            snapshot: snapshot.as_ref(),
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
