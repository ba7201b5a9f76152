//! The durable store of one shard (its own redb file): the command log since the last snapshot,
//! the snapshot, the outbox of outcomes not yet known to be settled, and the meta counters.

use std::path::Path;

use contracts::ShardOutcome;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::state::{LoggedCommand, ShardSnapshot};

/// sequence -> postcard `LoggedCommand` (since the snapshot).
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_log");
/// sequence -> postcard `ShardOutcome` (not yet settled).
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_outbox");
/// 0 -> postcard `ShardSnapshot`.
const SNAPSHOT: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_snapshot");
/// "hash_sequence" and "state_hash": the books' hash after that sequence (checkpointed).
const META: TableDefinition<&str, u64> = TableDefinition::new("shard_meta");

/// What a batch writes.
pub struct Batch<'a> {
    /// The commands and their outcomes, in sequence order.
    pub entries: &'a [(LoggedCommand, ShardOutcome)],
    /// A hash checkpoint `(sequence, books' hash)`, written every so often (hashing is O(books)).
    pub state_hash: Option<(u64, u64)>,
    /// Outbox entries in this range are settled and can go.
    pub prune: Option<std::ops::RangeInclusive<u64>>,
    /// A new snapshot (the log up to it is dropped).
    pub snapshot: Option<&'a ShardSnapshot>,
}

/// What recovery reads.
pub struct Persisted {
    /// The last snapshot.
    pub snapshot: Option<ShardSnapshot>,
    /// Commands after it, in order.
    pub log: Vec<LoggedCommand>,
    /// The last hash checkpoint `(sequence, books' hash)`.
    pub state_hash: Option<(u64, u64)>,
}

/// One shard's redb database.
pub struct ShardStore {
    db: Database,
}

impl ShardStore {
    /// Opens (or creates) the file.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(LOG)?;
        txn.open_table(OUTBOX)?;
        txn.open_table(SNAPSHOT)?;
        txn.open_table(META)?;
        txn.commit()?;
        Ok(Self { db })
    }

    /// Everything recovery needs.
    pub fn load(&self) -> anyhow::Result<Persisted> {
        let txn = self.db.begin_read()?;
        let snapshot = match txn.open_table(SNAPSHOT)?.get(0)? {
            Some(bytes) => Some(postcard::from_bytes(bytes.value())?),
            None => None,
        };
        let mut log = Vec::new();
        for entry in txn.open_table(LOG)?.iter()? {
            log.push(postcard::from_bytes(entry?.1.value())?);
        }
        let meta = txn.open_table(META)?;
        let sequence = meta.get("hash_sequence")?.map(|v| v.value());
        let hash = meta.get("state_hash")?.map(|v| v.value());
        let state_hash = sequence.zip(hash);
        Ok(Persisted {
            snapshot,
            log,
            state_hash,
        })
    }

    /// Outcomes after `sequence` still in the outbox, in order.
    pub fn outbox_after(&self, sequence: u64) -> anyhow::Result<Vec<ShardOutcome>> {
        let txn = self.db.begin_read()?;
        let mut outcomes = Vec::new();
        for entry in txn
            .open_table(OUTBOX)?
            .range(sequence.saturating_add(1)..)?
        {
            outcomes.push(postcard::from_bytes(entry?.1.value())?);
        }
        Ok(outcomes)
    }

    /// Writes a batch in one durable transaction.
    pub fn write(&self, batch: &Batch<'_>) -> anyhow::Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut log = txn.open_table(LOG)?;
            let mut outbox = txn.open_table(OUTBOX)?;
            for (logged, outcome) in batch.entries {
                log.insert(logged.sequence, postcard::to_stdvec(logged)?.as_slice())?;
                outbox.insert(outcome.sequence, postcard::to_stdvec(outcome)?.as_slice())?;
            }
            if let Some(range) = &batch.prune {
                for sequence in range.clone() {
                    outbox.remove(sequence)?;
                }
            }
            if let Some(snapshot) = batch.snapshot {
                txn.open_table(SNAPSHOT)?
                    .insert(0, postcard::to_stdvec(snapshot)?.as_slice())?;
                log.retain(|sequence, _| sequence > snapshot.sequence)?;
            }
            if let Some((sequence, hash)) = batch.state_hash {
                let mut meta = txn.open_table(META)?;
                meta.insert("hash_sequence", sequence)?;
                meta.insert("state_hash", hash)?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}
