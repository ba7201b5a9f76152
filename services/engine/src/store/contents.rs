//! What a shard's store holds, in memory, and the two encodings that rebuild it: one journal
//! record per batch ([`Record`], replayed by [`Contents::apply`], the same function a live write
//! runs) and the whole of it as a journal snapshot ([`Contents`] itself).
//!
//! Applying a record is idempotent (entries and refs are inserted by key, the books and meta
//! values replaced, the pruning rule recomputed), so a record replayed over a state that already
//! holds it changes nothing: the store relies on that when it snapshots a batch's state just
//! before appending the batch's record (see the store's module docs).

use imbl::OrdMap;

use contracts::{ShardCommand, ShardOutcome};
use serde::{Deserialize, Serialize};

use crate::state::LoggedCommand;

/// A logged command with its outcome.
pub type Entry = (LoggedCommand, ShardOutcome);

/// A books snapshot as the store keeps it: its sequence and its postcard bytes (decoded only by
/// recovery, so a batch that carries one encodes it once and nothing decodes it while running).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Books {
    /// The sequence the snapshot was taken at.
    pub sequence: u64,
    /// The postcard [`crate::state::ShardSnapshot`].
    pub bytes: Bytes,
}

/// A books snapshot as a replayed record holds it: borrowed from the record's payload, so a
/// replay copies only the last one (the records before it may carry many).
#[derive(Deserialize)]
pub struct BooksRef<'a> {
    /// The sequence the snapshot was taken at.
    pub sequence: u64,
    /// The postcard [`crate::state::ShardSnapshot`].
    pub bytes: &'a [u8],
}

/// One batch's journal record: written borrowed (`E = &[Entry]`, `B = Option<&Books>`), read
/// owned ([`OwnedRecord`]); both encode alike.
#[derive(Serialize, Deserialize)]
pub struct Record<E, B> {
    /// The commands and their outcomes, in sequence order.
    pub entries: E,
    /// A new books snapshot, if the batch carried one.
    pub books: B,
    /// A hash checkpoint `(sequence, books' hash)`, if the batch carried one.
    pub state_hash: Option<(u64, u64)>,
    /// The hand-off watermark as of the batch.
    pub settled: u64,
}

/// A record as a live write applies it.
pub type OwnedRecord = Record<Vec<Entry>, Option<Books>>;

/// A record as read back.
pub type ReadRecord<'a> = Record<Vec<Entry>, Option<BooksRef<'a>>>;

/// The store's whole state; its postcard form is the journal snapshot. Persistent maps (`imbl`):
/// the journal snapshot takes a copy in O(1) on the shard's thread and encodes it elsewhere.
#[derive(Default, Clone, Serialize, Deserialize)]
pub struct Contents {
    /// sequence -> entry, after min(books' sequence, settled): replay reads the commands after
    /// the books, settlement after a restart reads the outcomes after its watermark.
    pub log: OrdMap<u64, Entry>,
    /// order ref -> the sequence of the place that carried it, or of the expire that took effect
    /// for it (never pruned: about 16 bytes per order). A B-tree, not a hash map: it only grows,
    /// and a hash map doubling rehashes every ref ever placed in one go on the shard's thread
    /// (a pause that grows with the shard's history).
    pub refs: OrdMap<u64, u64>,
    /// The last books snapshot.
    pub books: Option<Books>,
    /// The last hash checkpoint `(sequence, books' hash)`.
    pub state_hash: Option<(u64, u64)>,
    /// The hand-off watermark of the last batch (0 before any).
    pub settled: u64,
}

impl Contents {
    /// The state after `record` (live, or replayed from the journal).
    pub fn apply(&mut self, record: OwnedRecord) {
        for (command, outcome) in record.entries {
            if let Some(order_ref) = sequenced_ref(&command) {
                self.refs.insert(order_ref, command.sequence);
            }
            self.log.insert(command.sequence, (command, outcome));
        }
        if let Some(books) = record.books {
            self.books = Some(books);
        }
        if let Some(state_hash) = record.state_hash {
            self.state_hash = Some(state_hash);
        }
        self.settled = record.settled;
        let keep_after = self.books_sequence().min(self.settled);
        while let Some(first) = self.log.get_min().map(|(sequence, _)| *sequence) {
            if first > keep_after {
                break;
            }
            self.log.remove(&first);
        }
    }

    /// The state after the journal's `records` (payloads), replayed in order.
    pub fn replay(&mut self, records: &[Vec<u8>]) -> anyhow::Result<()> {
        let mut last_books = None;
        for payload in records {
            let record: ReadRecord<'_> = postcard::from_bytes(payload)?;
            // Only the sequence matters until the end (it decides what the log keeps).
            let books = record.books.map(|books| {
                last_books = Some(books.bytes);
                Books {
                    sequence: books.sequence,
                    bytes: Bytes::default(),
                }
            });
            self.apply(Record {
                entries: record.entries,
                books,
                state_hash: record.state_hash,
                settled: record.settled,
            });
        }
        // The last record with books decided `self.books`: give it its bytes.
        if let (Some(bytes), Some(books)) = (last_books, self.books.as_mut()) {
            books.bytes = Bytes(bytes.to_vec());
        }
        Ok(())
    }

    /// The sequence of the last books snapshot (0: none, replay starts from empty books).
    pub fn books_sequence(&self) -> u64 {
        self.books.as_ref().map_or(0, |books| books.sequence)
    }
}

/// The order ref a logged command makes known: a place's, or an expire's that took effect (a
/// place with its ref is then never placed).
fn sequenced_ref(command: &LoggedCommand) -> Option<u64> {
    match &command.command {
        ShardCommand::Place(place) => Some(place.order_ref),
        ShardCommand::Expire(expire) if command.core_order_id == 0 => Some(expire.order_ref),
        ShardCommand::Expire(_) | ShardCommand::Cancel(_) => None,
    }
}

/// Bytes encoded as one length-prefixed run (a `Vec<u8>` would be decoded byte by byte).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Bytes;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(bytes.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(bytes))
            }
        }
        deserializer.deserialize_byte_buf(Visitor)
    }
}
