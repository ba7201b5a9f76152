//! The durable store of one shard (its own redb file): the log of commands with their outcomes,
//! the snapshot, the meta counters, and the order refs already sequenced (so a redelivered place
//! is answered, never placed twice).
//!
//! One log serves both recovery paths: replay reads the commands after the snapshot, and
//! settlement after a restart reads the outcomes after its watermark. So a log entry is kept until
//! both the snapshot and settlement have passed it (one table insert per command, nothing to
//! prune per batch: the shard's commit writes fewer pages than with a separate outbox).

use std::path::Path;

use contracts::{ShardCommand, ShardOutcome};
use redb::{Database, ReadableDatabase, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize};

use crate::state::{LoggedCommand, ShardSnapshot};

/// sequence -> postcard [`LogEntry`] (after min(snapshot, settled watermark)).
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_log_entries");
/// A table only the earlier layout had.
const OLD_LAYOUT_TABLE: &str = "shard_outbox";
/// 0 -> postcard `ShardSnapshot`.
const SNAPSHOT: TableDefinition<u64, &[u8]> = TableDefinition::new("shard_snapshot");
/// "hash_sequence" and "state_hash": the books' hash after that sequence (checkpointed);
/// "settled_through": the hand-off watermark as of the last commit (see [`Batch::settled`]).
const META: TableDefinition<&str, u64> = TableDefinition::new("shard_meta");
/// order ref -> the sequence of the place that carried it, or of the expire that took effect
/// for it: how a redelivered (or expired) place is recognised and an expire decided (written in
/// the same commit as its log entry; never pruned: about 16 bytes per order).
const ORDER_REFS: TableDefinition<u64, u64> = TableDefinition::new("shard_order_refs");
/// The META key of the hand-off watermark.
const SETTLED_THROUGH: &str = "settled_through";

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
    /// Every outcome up to this sequence is handed off: applied by settlement (embedded) or
    /// published to and confirmed by the broker (distributed). Persisted, so a restart knows
    /// which logged outcomes to hand off again.
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
        txn.open_table(ORDER_REFS)?;
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

    /// The logged outcome of `sequence`, if the log still holds it.
    pub fn outcome_at(&self, sequence: u64) -> anyhow::Result<Option<ShardOutcome>> {
        let txn = self.db.begin_read()?;
        match txn.open_table(LOG)?.get(sequence)? {
            Some(bytes) => Ok(Some(
                postcard::from_bytes::<LogEntry>(bytes.value())?.outcome,
            )),
            None => Ok(None),
        }
    }

    /// For each order ref, the sequence of the place that carried it, if any was committed.
    pub fn sequences_of(&self, order_refs: &[u64]) -> anyhow::Result<Vec<Option<u64>>> {
        if order_refs.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ORDER_REFS)?;
        order_refs
            .iter()
            .map(|order_ref| Ok(table.get(*order_ref)?.map(|v| v.value())))
            .collect()
    }

    /// The hand-off watermark of the last commit (0 before any).
    pub fn settled_through(&self) -> anyhow::Result<u64> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok(meta.get(SETTLED_THROUGH)?.map_or(0, |v| v.value()))
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
            let mut refs = txn.open_table(ORDER_REFS)?;
            for (command, _) in batch.entries {
                match &command.command {
                    ShardCommand::Place(place) => {
                        refs.insert(place.order_ref, command.sequence)?;
                    }
                    // An expire that took effect: a place with its ref is never placed.
                    ShardCommand::Expire(expire) if command.core_order_id == 0 => {
                        refs.insert(expire.order_ref, command.sequence)?;
                    }
                    ShardCommand::Expire(_) | ShardCommand::Cancel(_) => {}
                }
            }
            if let Some(snapshot) = batch.snapshot {
                txn.open_table(SNAPSHOT)?
                    .insert(0, postcard::to_stdvec(snapshot)?.as_slice())?;
                let keep_after = snapshot.sequence.min(batch.settled);
                log.retain(|sequence, _| sequence > keep_after)?;
            }
            let mut meta = txn.open_table(META)?;
            if let Some((sequence, hash)) = batch.state_hash {
                meta.insert("hash_sequence", sequence)?;
                meta.insert("state_hash", hash)?;
            }
            meta.insert(SETTLED_THROUGH, batch.settled)?;
        }
        txn.commit()?;
        Ok(())
    }
}
