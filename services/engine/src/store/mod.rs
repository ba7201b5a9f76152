//! The durable store of one shard (its own redb file): the log of commands with their outcomes,
//! the snapshot, and the meta counters.
//!
//! One log serves both recovery paths: replay reads the commands after the snapshot, and
//! settlement after a restart reads the outcomes after its watermark. So a log entry is kept until
//! both the snapshot and settlement have passed it (one table insert per command, nothing to
//! prune per batch: the shard's commit writes fewer pages than with a separate outbox).

use std::path::Path;

use contracts::ShardOutcome;
use redb::{Database, ReadableDatabase, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize};

use crate::state::{LoggedCommand, ShardSnapshot};

/// sequence -> postcard [`LogEntry`] (after min(snapshot, settled watermark)).
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_log_entries");
/// A table only the earlier layout had.
const OLD_LAYOUT_TABLE: &str = "shard_outbox";
/// 0 -> postcard `ShardSnapshot`.
const SNAPSHOT: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_snapshot");
/// "hash_sequence" and "state_hash": the books' hash after that sequence (checkpointed).
const META: TableDefinition<&str, u64> = TableDefinition::new("shard_meta");

/// A log entry: the command (replayed by recovery) and its outcome (settled again after a crash
/// if settlement had not applied it).
#[derive(Deserialize)]
struct LogEntry {
    command: LoggedCommand,
    outcome: ShardOutcome,
}

/// A log entry as written (borrowed, same encoding as [`LogEntry`]).
#[derive(Serialize)]
struct LogEntryRef<'a> {
    command: &'a LoggedCommand,
    outcome: &'a ShardOutcome,
}

/// What a batch writes.
pub struct Batch<'a> {
    /// The commands and their outcomes, in sequence order.
    pub entries: &'a [(LoggedCommand, ShardOutcome)],
    /// A hash checkpoint `(sequence, books' hash)`, written every so often (hashing is O(books)).
    pub state_hash: Option<(u64, u64)>,
    /// Settlement has applied every outcome up to this sequence.
    pub settled: u64,
    /// A new snapshot (the log up to it and up to `settled` is dropped).
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
        // A file of the earlier layout (separate log and outbox tables) would open with an empty
        // log and silently lose the commands after its snapshot: refuse it instead.
        if txn
            .list_tables()?
            .any(|table| table.name() == OLD_LAYOUT_TABLE)
        {
            anyhow::bail!(
                "{} was written with the earlier shard layout (shard_outbox); start from a fresh data directory",
                path.display()
            );
        }
        txn.open_table(LOG)?;
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
        let after = snapshot.as_ref().map_or(0, |s: &ShardSnapshot| s.sequence);
        let mut log = Vec::new();
        for entry in txn.open_table(LOG)?.range(after.saturating_add(1)..)? {
            log.push(postcard::from_bytes::<LogEntry>(entry?.1.value())?.command);
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

    /// The logged outcomes after `sequence`, in order.
    pub fn outcomes_after(&self, sequence: u64) -> anyhow::Result<Vec<ShardOutcome>> {
        let txn = self.db.begin_read()?;
        let mut outcomes = Vec::new();
        for entry in txn.open_table(LOG)?.range(sequence.saturating_add(1)..)? {
            outcomes.push(postcard::from_bytes::<LogEntry>(entry?.1.value())?.outcome);
        }
        Ok(outcomes)
    }

    /// Writes a batch in one durable transaction.
    pub fn write(&self, batch: &Batch<'_>) -> anyhow::Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut log = txn.open_table(LOG)?;
            let mut bytes = Vec::new();
            for (command, outcome) in batch.entries {
                bytes.clear();
                let entry = LogEntryRef { command, outcome };
                bytes = postcard::to_extend(&entry, bytes)?;
                log.insert(command.sequence, bytes.as_slice())?;
            }
            if let Some(snapshot) = batch.snapshot {
                txn.open_table(SNAPSHOT)?
                    .insert(0, postcard::to_stdvec(snapshot)?.as_slice())?;
                let keep_after = snapshot.sequence.min(batch.settled);
                log.retain(|sequence, _| sequence > keep_after)?;
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
