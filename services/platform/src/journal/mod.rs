//! An append-only journal with group fsync, for state kept in memory: the owner applies a change
//! to its state, appends the change as a record (under the same lock, so the journal's order is
//! the order of the changes), and answers its caller once [`Journal::durable`] says the record is
//! on disk. One writer thread writes whatever was appended since its last write and syncs it
//! with one `fdatasync`, however many records that is: a commit costs one sequential write, not
//! a B-tree's copy-on-write pages. An inline journal ([`Journal::open_inline`]) has no writer
//! thread: the thread that waits for a record writes and syncs what is queued.
//!
//! Recovery is the newest snapshot plus the records after it ([`Journal::open`]); a torn record
//! at the tail (a write a crash cut short, never acknowledged) is cut off. The owner takes a
//! snapshot of its whole state when [`Journal::wants_snapshot`] says so (the journal has grown
//! past twice the last snapshot, and at least [`MIN_JOURNAL_BYTES`]), so the replay after a
//! restart stays proportional to the state, and the snapshot work stays amortized. The owner
//! hands over a copy of its state (O(1) with persistent collections); the snapshot is encoded
//! and written on a thread of its own while the records after it go on into the next journal
//! (`files.rs`), so neither the owner's lock nor any record waits for it: encoding a 36 MB
//! portfolio under the lock had paused every request for 0.4 s.
//!
//! A failed write or sync is final: every waiting and later record gets an error (the state in
//! memory may be ahead of the disk, so nothing more may be acknowledged), and it is logged.
//! Hand-written because the one crate for this (okaywal) says it is not for production use; the
//! framing is in `frame.rs`, the files in `files.rs`, the writer in `writer.rs`.

mod files;
mod frame;
mod writer;

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use tokio::sync::oneshot;

pub use files::Recovered;

/// The journal size below which no snapshot is asked for.
pub const MIN_JOURNAL_BYTES: u64 = 64 << 20;

/// The position of a record: durable once [`Progress::durable_through`] reaches it.
pub type Ticket = u64;

/// The journal failed (a write or sync error, or it was closed): nothing more is acknowledged.
#[derive(Debug, thiserror::Error)]
#[error("the journal could not make the change durable")]
pub struct JournalFailed;

/// How far the writer got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Every record up to this ticket is on disk.
    pub durable_through: Ticket,
    /// The writer stopped on an error; nothing after `durable_through` will be.
    pub failed: bool,
}

/// Appended work the writer has not taken yet.
enum Chunk {
    /// Frames, through this ticket.
    Records(Vec<u8>, Ticket),
    /// A snapshot of the state after every record appended before it, encoded when it is
    /// written (in the background: see `writer.rs`).
    Snapshot(Encoder),
}

/// Encodes a snapshot: the owner's state, taken (cheaply cloned) under its lock.
type Encoder = Box<dyn FnOnce() -> anyhow::Result<Vec<u8>> + Send>;

struct Queue {
    chunks: Vec<Chunk>,
    next_ticket: Ticket,
    journal_bytes: u64,
    last_snapshot_bytes: u64,
    progress: Progress,
    closed: bool,
    /// The writer thread sleeps on `work_ready`: only then does an append wake it (a wake is a
    /// syscall even with nobody waiting, and a busy writer takes the queue when its round ends).
    writer_idle: bool,
    /// Async waiters, each woken only once its ticket is durable (or dropped when the journal
    /// fails): a round wakes exactly the callers it made durable.
    waiters: Vec<(Ticket, oneshot::Sender<()>)>,
    /// Snapshots asked for and not yet on disk (no other is asked for meanwhile).
    snapshots_pending: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    /// The writer of an inline journal (see [`Journal::open_inline`]); `None` when a writer
    /// thread owns it.
    inline: Option<Mutex<writer::Writer>>,
    work_ready: Condvar,
    progress_changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Closes the journal when the last handle goes: the writer writes what is queued and stops.
struct Closer(Arc<Shared>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.work_ready.notify_all();
    }
}

/// A handle to one journal (cheap to clone).
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
    _closer: Arc<Closer>,
}

impl Journal {
    /// Opens (or creates) the journal `name` in `dir`, returns what it held and starts its
    /// writer thread.
    pub fn open(dir: &Path, name: &str) -> anyhow::Result<(Self, Recovered)> {
        Self::open_as(dir, name, false)
    }

    /// Like [`Journal::open`], but with no writer thread: [`Journal::wait_durable`] writes and
    /// syncs on the calling thread. For an owner that has a thread of its own and waits for
    /// every record (a shard): it saves the two thread switches a round costs otherwise, which
    /// on a small virtual machine cost about as much as the sync.
    pub fn open_inline(dir: &Path, name: &str) -> anyhow::Result<(Self, Recovered)> {
        Self::open_as(dir, name, true)
    }

    fn open_as(dir: &Path, name: &str, inline: bool) -> anyhow::Result<(Self, Recovered)> {
        let layout = files::Layout::new(dir, name);
        let (generation, recovered, file) = layout.recover()?;
        let journal_bytes = recovered.records.iter().map(|r| r.len() as u64).sum();
        let snapshot_bytes = recovered.snapshot.as_ref().map_or(0, |s| s.len() as u64);
        let writer = writer::Writer::new(layout, generation, file)?;
        let (inline_writer, threaded_writer) = match inline {
            true => (Some(Mutex::new(writer)), None),
            false => (None, Some(writer)),
        };
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                chunks: Vec::new(),
                next_ticket: 1,
                journal_bytes,
                last_snapshot_bytes: snapshot_bytes,
                progress: Progress::default(),
                closed: false,
                writer_idle: false,
                waiters: Vec::new(),
                snapshots_pending: 0,
            }),
            inline: inline_writer,
            work_ready: Condvar::new(),
            progress_changed: Condvar::new(),
        });
        if let Some(writer) = threaded_writer {
            writer::start(writer, Arc::clone(&shared), name)?;
        }
        let closer = Arc::new(Closer(Arc::clone(&shared)));
        Ok((
            Self {
                shared,
                _closer: closer,
            },
            recovered,
        ))
    }

    /// Appends `record`; it is durable once [`Journal::durable`] of the returned ticket resolves.
    /// Call it under the lock that orders the owner's changes.
    pub fn append<T: Serialize + ?Sized>(&self, record: &T) -> anyhow::Result<Ticket> {
        let mut queue = self.shared.lock();
        if queue.progress.failed || queue.closed {
            return Err(JournalFailed.into());
        }
        let ticket = queue.next_ticket;
        let before = match queue.chunks.last_mut() {
            Some(Chunk::Records(bytes, through)) => {
                *through = ticket;
                let before = bytes.len();
                frame::encode_into(bytes, record).map(|()| bytes.len() - before)
            }
            _ => {
                let mut bytes = Vec::with_capacity(4096);
                let written = frame::encode_into(&mut bytes, record).map(|()| bytes.len());
                queue.chunks.push(Chunk::Records(bytes, ticket));
                written
            }
        }?;
        queue.next_ticket += 1;
        queue.journal_bytes += before as u64;
        let wake_writer = queue.writer_idle;
        drop(queue);
        if wake_writer {
            self.shared.work_ready.notify_one();
        }
        Ok(ticket)
    }

    /// The ticket of the last record appended (0 before any): a change that wrote nothing but
    /// read what earlier records wrote waits for this one.
    pub fn last_ticket(&self) -> Ticket {
        self.shared.lock().next_ticket - 1
    }

    /// True when the journal has grown enough that the owner should write a snapshot (and none
    /// is being written).
    pub fn wants_snapshot(&self) -> bool {
        let queue = self.shared.lock();
        queue.snapshots_pending == 0
            && queue.journal_bytes
                >= MIN_JOURNAL_BYTES.max(queue.last_snapshot_bytes.saturating_mul(2))
    }

    /// Queues a snapshot of the owner's whole state as of every record appended so far: call it
    /// under the owner's lock with a copy of the state, cheap to take (persistent collections,
    /// `imbl`). It is encoded and written on a thread of its own while the records after it go
    /// on into the next journal; the records before it are dropped once it is on disk. So
    /// neither the owner's lock nor the records wait for a state-sized encode or write.
    pub fn snapshot<T: Serialize + Send + 'static>(&self, state: T) -> anyhow::Result<()> {
        let mut queue = self.shared.lock();
        if queue.progress.failed || queue.closed {
            return Err(JournalFailed.into());
        }
        queue.journal_bytes = 0;
        queue.snapshots_pending += 1;
        let encode: Encoder = Box::new(move || Ok(postcard::to_stdvec(&state)?));
        queue.chunks.push(Chunk::Snapshot(encode));
        let wake_writer = queue.writer_idle;
        drop(queue);
        if wake_writer {
            self.shared.work_ready.notify_one();
        }
        Ok(())
    }

    /// Blocks until every snapshot asked for so far is on disk or failed (tests, and an owner
    /// that is about to stop).
    pub fn wait_for_snapshots(&self) {
        self.write_inline();
        let mut queue = self.shared.lock();
        while queue.snapshots_pending > 0 && !queue.progress.failed {
            queue = self
                .shared
                .progress_changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Resolves once the record of `ticket` is on disk.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), JournalFailed> {
        if self.shared.inline.is_some() {
            let journal = self.clone();
            return tokio::task::spawn_blocking(move || journal.wait_durable(ticket))
                .await
                .map_err(|_| JournalFailed)?;
        }
        let reached = {
            let mut queue = self.shared.lock();
            if queue.progress.durable_through >= ticket {
                return Ok(());
            }
            if queue.progress.failed {
                return Err(JournalFailed);
            }
            let (sender, reached) = oneshot::channel();
            queue.waiters.push((ticket, sender));
            reached
        };
        reached.await.map_err(|_| JournalFailed)
    }

    /// Blocks until the record of `ticket` is on disk (for owners on their own thread). On an
    /// inline journal the caller writes and syncs what is queued itself.
    pub fn wait_durable(&self, ticket: Ticket) -> Result<(), JournalFailed> {
        self.write_inline();
        let mut queue = self.shared.lock();
        while queue.progress.durable_through < ticket && !queue.progress.failed {
            queue = self
                .shared
                .progress_changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        match queue.progress.durable_through >= ticket {
            true => Ok(()),
            false => Err(JournalFailed),
        }
    }

    /// On an inline journal, writes and syncs what is queued on the calling thread.
    fn write_inline(&self) {
        if let Some(inline) = &self.shared.inline {
            let mut writer = inline.lock().unwrap_or_else(PoisonError::into_inner);
            let chunks = std::mem::take(&mut self.shared.lock().chunks);
            if !chunks.is_empty() {
                writer.round(&self.shared, chunks);
            }
        }
    }
}

/// Decodes a record or snapshot payload.
pub fn decode<T: serde::de::DeserializeOwned>(payload: &[u8]) -> anyhow::Result<T> {
    Ok(postcard::from_bytes(payload)?)
}

#[cfg(test)]
mod tests;
