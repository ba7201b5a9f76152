//! Opening a shard: snapshot + replay of the command log, then a check that the rebuilt books
//! have the persisted state hash.

use std::path::Path;

use anyhow::bail;
use contracts::ShardOutcome;
use platform::clock::SharedClock;

use crate::shard::Shard;
use crate::state::ShardState;
use crate::store::ShardStore;

/// Opens shard `index` from its journal `path` (`data_dir/shard-K`), rebuilding its books.
pub fn open(index: u32, path: &Path, clock: SharedClock) -> anyhow::Result<Shard> {
    let store = ShardStore::open(path)?;
    let persisted = store.load()?;
    let mut state = match &persisted.snapshot {
        Some(snapshot) => ShardState::restore(index, snapshot),
        None => ShardState::new(index),
    };
    let checkpoint = persisted.state_hash;
    verify(index, &state, checkpoint)?;
    for logged in &persisted.log {
        state.execute(logged);
        verify(index, &state, checkpoint)?;
    }
    // The hash walks every book once (O(resting orders)); start-up can afford it, and it lets
    // an operator (and the fault tests) compare the books across a restart.
    tracing::info!(
        shard = index,
        sequence = state.sequence(),
        replayed = persisted.log.len(),
        state_hash = format!("{:#018x}", state.state_hash()),
        "shard rebuilt"
    );
    Ok(Shard {
        index,
        state,
        store,
        clock,
    })
}

/// At the checkpoint's sequence, the books must hash to the checkpoint's value.
fn verify(index: u32, state: &ShardState, checkpoint: Option<(u64, u64)>) -> anyhow::Result<()> {
    match checkpoint {
        Some((sequence, expected)) if sequence == state.sequence() => {
            let rebuilt = state.state_hash();
            if rebuilt != expected {
                bail!(
                    "shard {index}: rebuilt books hash {rebuilt:#x} at sequence {sequence}, persisted {expected:#x}"
                );
            }
            tracing::info!(
                shard = index,
                sequence,
                "rebuilt books match the persisted hash"
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

impl Shard {
    /// The last sequence assigned.
    pub fn sequence(&self) -> u64 {
        self.state.sequence()
    }

    /// The hand-off watermark persisted by the last commit: outcomes after it may not have
    /// reached settlement (embedded) or the broker (distributed).
    pub fn settled_through(&self) -> u64 {
        self.store.settled_through()
    }

    /// Outcomes after `applied_through` that settlement has not applied yet, in order.
    pub fn unsettled(&self, applied_through: u64) -> Vec<ShardOutcome> {
        self.store.outcomes_after(applied_through)
    }
}
