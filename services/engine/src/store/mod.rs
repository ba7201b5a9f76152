//! The durable store of one shard: the log of commands with their outcomes, the last books
//! snapshot, the meta values (hash checkpoint, hand-off watermark), and the order refs already
//! sequenced (so a redelivered place is answered, never placed twice).
//!
//! The state lives in memory (`contents::Contents`) and is changed only by
//! [`ShardStore::write`], which appends one record for the batch to the shard's journal
//! (`platform::journal`, named `shard-K` in the data directory) and returns once it is durable:
//! one sequential write and an `fdatasync`, instead of a B-tree's copy-on-write commit. The
//! journal is inline: the shard thread writes and syncs its batch itself (no writer thread to
//! wake and be woken by).
//! Opening the store rebuilds the state from the journal's last snapshot plus the records after
//! it (the same `apply` a write runs); a torn record at the tail was never acknowledged and is
//! cut off by the journal.
//!
//! One log serves both recovery paths: replay reads the commands after the books snapshot, and
//! settlement after a restart reads the outcomes after its watermark. So a log entry is kept
//! until both the books snapshot and the settled watermark pass it (pruned in memory by every
//! batch, so the log holds the commands since the last books snapshot plus the unsettled ones).
//!
//! Two kinds of snapshot, on two schedules:
//! - the books snapshot ([`Batch::snapshot`]), every `SNAPSHOT_EVERY` commands, further apart
//!   on deep books (see [`crate::shard`]): it bounds the commands recovery replays through the
//!   matching engine and the log kept in memory. It is O(resting orders), and travels in the
//!   batch's record;
//! - the journal snapshot ([`Batch::compact`]): the store's whole state (books snapshot, kept
//!   log, order refs, meta), after which the journal's earlier records are deleted. The shard
//!   asks for one when [`ShardStore::wants_snapshot`] (the journal has grown past twice the last
//!   snapshot, and at least `platform::journal::MIN_JOURNAL_BYTES`), with a fresh books snapshot
//!   so the kept log is short. The order refs grow with every order ever placed, so a full
//!   snapshot on a fixed command count would cost quadratic work over a shard's life; tied to
//!   the journal's growth, each snapshot is paid for by at least as many journal bytes, and the
//!   records replayed after a restart stay proportional to the state.
//!
//! A compacting write applies the batch, queues the snapshot of that state (a copy of the
//! persistent maps, O(1)), then appends the batch's record behind it, into the next generation's
//! journal. The journal encodes and writes the snapshot in the background, so the shard never
//! waits for it; until it is on disk, recovery replays the previous generation's journal too
//! (`platform::journal`), so a role restarting meanwhile may reopen the journal at once.
//! Replaying that record over the snapshot changes nothing (`contents.rs` explains why).

mod contents;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::Context;
use contracts::ShardOutcome;
use platform::journal::{self, Journal};

use crate::state::{LoggedCommand, ShardSnapshot};
use contents::{Books, Bytes, Contents, Entry, OwnedRecord, Record};

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
    /// A new books snapshot (the log up to it and up to `settled` is dropped).
    pub snapshot: Option<&'a ShardSnapshot>,
    /// Also write the store's whole state (after this batch) as a journal snapshot, so the
    /// journal's earlier records can go.
    pub compact: bool,
}

/// What recovery reads.
pub struct Persisted {
    /// The last books snapshot.
    pub snapshot: Option<ShardSnapshot>,
    /// Commands after it, in order.
    pub log: Vec<LoggedCommand>,
    /// The last hash checkpoint `(sequence, books' hash)`.
    pub state_hash: Option<(u64, u64)>,
}

/// One shard's store: its state in memory, its journal on disk.
pub struct ShardStore {
    journal: Journal,
    contents: Contents,
}

impl ShardStore {
    /// Opens (or creates) the journal `path` (a directory and the journal's name: `shard-K`)
    /// and rebuilds the store's state from it.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        // A redb file of the earlier version would be ignored, silently starting the shard
        // empty: refuse it instead.
        let old = path.with_extension("redb");
        if old.exists() {
            anyhow::bail!(
                "{} was written by an earlier version with redb; start from a fresh data directory",
                old.display()
            );
        }
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .with_context(|| format!("{} does not name a journal", path.display()))?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let (journal, recovered) = Journal::open_inline(dir, name)?;
        let mut contents = match &recovered.snapshot {
            Some(bytes) => journal::decode::<Contents>(bytes)
                .with_context(|| format!("the snapshot of journal {name}"))?,
            None => Contents::default(),
        };
        contents
            .replay(&recovered.records)
            .with_context(|| format!("a record of journal {name}"))?;
        Ok(Self { journal, contents })
    }

    /// Everything recovery needs.
    pub fn load(&self) -> anyhow::Result<Persisted> {
        let snapshot = match &self.contents.books {
            Some(books) => Some(postcard::from_bytes(&books.bytes.0)?),
            None => None,
        };
        let after = self.contents.books_sequence();
        let log = self
            .contents
            .log
            .range(after.saturating_add(1)..)
            .map(|(_, (command, _))| command.clone())
            .collect();
        Ok(Persisted {
            snapshot,
            log,
            state_hash: self.contents.state_hash,
        })
    }

    /// The logged outcomes after `sequence`, in order.
    pub fn outcomes_after(&self, sequence: u64) -> Vec<ShardOutcome> {
        self.contents
            .log
            .range(sequence.saturating_add(1)..)
            .map(|(_, (_, outcome))| outcome.clone())
            .collect()
    }

    /// The logged outcome of `sequence`, if the log still holds it.
    pub fn outcome_at(&self, sequence: u64) -> Option<ShardOutcome> {
        self.contents
            .log
            .get(&sequence)
            .map(|(_, outcome)| outcome.clone())
    }

    /// The sequence of the place that carried `order_ref` (or of the expire that took effect
    /// for it), if one was written.
    pub fn sequence_of(&self, order_ref: u64) -> Option<u64> {
        self.contents.refs.get(&order_ref).copied()
    }

    /// The hand-off watermark of the last write (0 before any).
    pub fn settled_through(&self) -> u64 {
        self.contents.settled
    }

    /// True when the journal has grown enough that the next batch should set
    /// [`Batch::compact`].
    pub fn wants_snapshot(&self) -> bool {
        self.journal.wants_snapshot()
    }

    /// Blocks until the journal snapshots asked for so far are on disk (tests).
    #[cfg(test)]
    pub fn wait_for_snapshots(&self) {
        self.journal.wait_for_snapshots();
    }

    /// Writes a batch as one journal record and returns once it is durable. After an error the
    /// store may be ahead of its journal: the shard stops, and reopening rebuilds from disk.
    pub fn write(&mut self, batch: &Batch<'_>) -> anyhow::Result<()> {
        let books = match batch.snapshot {
            Some(snapshot) => Some(Books {
                sequence: snapshot.sequence,
                bytes: Bytes(postcard::to_stdvec(snapshot)?),
            }),
            None => None,
        };
        let carries_books = books.is_some();
        self.contents.apply(OwnedRecord {
            entries: batch.entries.to_vec(),
            books,
            state_hash: batch.state_hash,
            settled: batch.settled,
        });
        if batch.compact {
            self.journal.snapshot(self.contents.clone())?;
        }
        let record: Record<&[Entry], Option<&Books>> = Record {
            entries: batch.entries,
            books: self.contents.books.as_ref().filter(|_| carries_books),
            state_hash: batch.state_hash,
            settled: batch.settled,
        };
        let ticket = self.journal.append(&record)?;
        self.journal.wait_durable(ticket)?;
        Ok(())
    }
}
