//! The writer thread: takes everything appended since its last round, writes it, syncs once,
//! then publishes how far the journal is durable.
//!
//! The file is filled with zeros [`PREFILL`] bytes at a time ahead of the records: an
//! `fdatasync` of a write that does not grow the file has no size to commit (ext4 then skips its
//! metadata journal commit), which made a sync of a growing file several times dearer. Recovery
//! reads a zero length as the end (`frame.rs`) and cuts the zeros off.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, PoisonError};

/// Bytes of zeros written ahead of the records at a time (a multiple of `ZEROS`).
pub const PREFILL: u64 = 1 << 20;
/// The zeros a prefill writes, a block at a time (no allocation per prefill).
static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

use super::files::Layout;
use super::{Chunk, Encoder, Shared, Ticket};

/// The open journal file of the current generation.
pub struct Writer {
    layout: Layout,
    generation: u64,
    file: File,
    /// Where the next record goes.
    position: u64,
    /// The file's length: zeros from `position` to here.
    prefilled: u64,
}

impl Writer {
    /// Appends to `file` (its records end at its length), generation `generation` of `layout`.
    pub fn new(layout: Layout, generation: u64, file: File) -> std::io::Result<Self> {
        let position = file.metadata()?.len();
        Ok(Self {
            layout,
            generation,
            file,
            position,
            prefilled: position,
        })
    }

    /// Writes `bytes` at the end of the records, prefilling first if they would grow the file.
    fn write_records(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let end = self.position + bytes.len() as u64;
        while self.prefilled < end {
            for offset in (0..PREFILL).step_by(ZEROS.len()) {
                self.file.write_all_at(&ZEROS, self.prefilled + offset)?;
            }
            self.prefilled += PREFILL;
        }
        self.file.write_all_at(bytes, self.position)?;
        self.position = end;
        Ok(())
    }

    /// Writes one round of chunks and syncs; the last ticket written, if any. A snapshot starts
    /// the next generation's journal here and is queued in `snapshots` with its generation, to
    /// be written in the background.
    fn write_round(
        &mut self,
        chunks: Vec<Chunk>,
        snapshots: &mut Vec<(u64, Encoder)>,
    ) -> anyhow::Result<Option<Ticket>> {
        let mut through = None;
        for chunk in chunks {
            match chunk {
                Chunk::Records(bytes, last) => {
                    self.write_records(&bytes)?;
                    through = Some(last);
                }
                Chunk::Snapshot(encode) => {
                    // The records before the snapshot are whole in the old journal before the
                    // next one starts (recovery relies on it: only the last journal may be torn).
                    self.file.sync_data()?;
                    self.generation += 1;
                    self.file = self.layout.start_journal(self.generation)?;
                    (self.position, self.prefilled) = (0, 0);
                    snapshots.push((self.generation, encode));
                }
            }
        }
        self.file.sync_data()?;
        Ok(through)
    }
}

/// Encodes and writes the snapshot of `generation` on a thread of its own, then records that it
/// is done. A failure is logged and leaves the journals in place (recovery replays them from
/// the previous snapshot); the next snapshot is asked for after as much growth again.
fn write_in_background(layout: Layout, generation: u64, encode: Encoder, shared: Arc<Shared>) {
    let thread_name = format!("{}-snapshot", layout.name());
    let done = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name(thread_name)
        .spawn(move || {
            crate::priority::background();
            let started = std::time::Instant::now();
            let written = encode().and_then(|bytes| {
                layout.write_snapshot(generation, &bytes)?;
                Ok(bytes.len() as u64)
            });
            match &written {
                Ok(bytes) => tracing::info!(
                    journal = layout.name(),
                    generation,
                    bytes,
                    millis = started.elapsed().as_millis(),
                    "journal snapshot written"
                ),
                Err(error) => tracing::error!(
                    journal = layout.name(),
                    generation,
                    %error,
                    "cannot write a journal snapshot; recovery replays the journals instead"
                ),
            }
            snapshot_finished(&done, written.ok());
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start a thread to write a journal snapshot");
        snapshot_finished(&shared, None);
    }
}

/// Records that a snapshot is on disk (`Some(its size)`) or failed.
fn snapshot_finished(shared: &Shared, bytes: Option<u64>) {
    let mut queue = shared.lock();
    if let Some(bytes) = bytes {
        queue.last_snapshot_bytes = bytes;
    }
    queue.snapshots_pending = queue.snapshots_pending.saturating_sub(1);
    drop(queue);
    shared.progress_changed.notify_all();
}

/// Starts the writer thread of `shared`.
pub fn start(mut writer: Writer, shared: Arc<Shared>, name: &str) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("{name}-journal"))
        .spawn(move || {
            crate::priority::durable_path();
            while let Some(chunks) = next_round(&shared) {
                if !writer.round(&shared, chunks) {
                    return;
                }
            }
        })?;
    Ok(())
}

impl Writer {
    /// Writes `chunks`, syncs and publishes the progress, then starts writing the snapshots
    /// among them; false when the journal failed.
    pub(super) fn round(&mut self, shared: &Arc<Shared>, chunks: Vec<Chunk>) -> bool {
        let mut snapshots = Vec::new();
        let result = self.write_round(chunks, &mut snapshots);
        let failed = result.is_err();
        if let Err(error) = &result {
            tracing::error!(%error, "the journal cannot write; nothing more is acknowledged");
        }
        publish(shared, result.ok().flatten(), failed);
        for (generation, encode) in snapshots {
            write_in_background(self.layout.clone(), generation, encode, Arc::clone(shared));
        }
        !failed
    }
}

/// Waits for appended work; `None` once the journal is closed and everything is written.
fn next_round(shared: &Shared) -> Option<Vec<Chunk>> {
    let mut queue = shared.lock();
    loop {
        if !queue.chunks.is_empty() {
            queue.writer_idle = false;
            return Some(std::mem::take(&mut queue.chunks));
        }
        if queue.closed {
            return None;
        }
        queue.writer_idle = true;
        queue = shared
            .work_ready
            .wait(queue)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Records the progress and wakes the waiters it satisfied (all of them, with an error, when
/// the journal failed: their senders are dropped).
fn publish(shared: &Shared, through: Option<Ticket>, failed: bool) {
    let mut queue = shared.lock();
    if let Some(through) = through {
        queue.progress.durable_through = through;
    }
    queue.progress.failed |= failed;
    let durable_through = queue.progress.durable_through;
    let (reached, waiting) = std::mem::take(&mut queue.waiters)
        .into_iter()
        .partition(|(ticket, _)| *ticket <= durable_through);
    queue.waiters = if failed { Vec::new() } else { waiting };
    drop(queue);
    for (_, sender) in reached {
        let _ = sender.send(());
    }
    shared.progress_changed.notify_all();
}
