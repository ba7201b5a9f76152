//! The writer thread: takes everything appended since its last round, writes it, syncs once,
//! then publishes how far the journal is durable.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, PoisonError};

use super::files::Layout;
use super::{Chunk, Shared, Ticket};

/// The open journal file of the current generation.
pub struct Writer {
    layout: Layout,
    generation: u64,
    file: File,
}

impl Writer {
    /// Appends to `file`, generation `generation` of `layout`.
    pub fn new(layout: Layout, generation: u64, file: File) -> Self {
        Self {
            layout,
            generation,
            file,
        }
    }

    /// Writes one round of chunks and syncs; the last ticket written, if any.
    fn write_round(&mut self, chunks: Vec<Chunk>) -> anyhow::Result<Option<Ticket>> {
        let mut through = None;
        for chunk in chunks {
            match chunk {
                Chunk::Records(bytes, last) => {
                    self.file.write_all(&bytes)?;
                    through = Some(last);
                }
                Chunk::Snapshot(state) => {
                    // The records before the snapshot are durable in the old file first.
                    self.file.sync_data()?;
                    self.generation += 1;
                    self.file = self.layout.start_generation(self.generation, &state)?;
                }
            }
        }
        self.file.sync_data()?;
        Ok(through)
    }
}

/// Starts the writer thread of `shared`.
pub fn start(mut writer: Writer, shared: Arc<Shared>, name: &str) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("{name}-journal"))
        .spawn(move || {
            while let Some(chunks) = next_round(&shared) {
                let result = writer.write_round(chunks);
                let failed = result.is_err();
                if let Err(error) = &result {
                    tracing::error!(%error, "the journal cannot write; nothing more is acknowledged");
                }
                publish(&shared, result.ok().flatten(), failed);
                if failed {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Waits for appended work; `None` once the journal is closed and everything is written.
fn next_round(shared: &Shared) -> Option<Vec<Chunk>> {
    let mut queue = shared.lock();
    loop {
        if !queue.chunks.is_empty() {
            return Some(std::mem::take(&mut queue.chunks));
        }
        if queue.closed {
            return None;
        }
        queue = shared
            .work_ready
            .wait(queue)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

fn publish(shared: &Shared, through: Option<Ticket>, failed: bool) {
    let mut queue = shared.lock();
    if let Some(through) = through {
        queue.progress.durable_through = through;
    }
    queue.progress.failed |= failed;
    let progress = queue.progress;
    drop(queue);
    shared.progress.send_replace(progress);
    shared.progress_changed.notify_all();
}
