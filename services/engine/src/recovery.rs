//! Opening a shard: snapshot + replay of the command log, then a check that the rebuilt books
//! have the persisted state hash.

use std::path::Path;

use anyhow::bail;
use contracts::ShardOutcome;
use platform::clock::SharedClock;

use crate::shard::Shard;
use crate::state::ShardState;
use crate::store::ShardStore;

/// Opens shard `index` from `path`, rebuilding its books.
pub fn open(index: u32, path: &Path, clock: SharedClock) -> anyhow::Result<Shard> {
    let store = ShardStore::open(path)?;
    let persisted = store.load()?;
    let mut state = match &persisted.snapshot {
        Some(snapshot) => ShardState::restore(index, snapshot),
        None => ShardState::new(index),
    };
    for logged in &persisted.log {
        state.execute(logged);
    }
    if let Some(expected) = persisted.state_hash {
        if expected != state.state_hash() {
            bail!(
                "shard {index}: rebuilt books hash {:#x}, persisted {expected:#x}",
                state.state_hash()
            );
        }
    }
    tracing::info!(
        shard = index,
        sequence = state.sequence(),
        replayed = persisted.log.len(),
        "shard rebuilt"
    );
    Ok(Shard {
        index,
        state,
        store,
        clock,
    })
}

impl Shard {
    /// Outcomes after `applied_through` that settlement has not applied yet, in order.
    pub fn unsettled(&self, applied_through: u64) -> anyhow::Result<Vec<ShardOutcome>> {
        self.store.outbox_after(applied_through)
    }
}
