//! Matching shards. Each shard is one thread, the single writer of its `matching::Engine` and of
//! its own store (state in memory, made durable by its own journal `shard-K` in the data
//! directory), fed by a bounded channel.
//!
//! Invariants: the shard is the sequencer: it assigns the command sequence (dense from 1) and
//! the core order ids (strictly increasing). A command's log entry and outcome are durable in
//! the journal before the outcome leaves the shard (group commit: one journal record and one
//! `fdatasync` per drained batch). Recovery restores the last books snapshot, replays the log
//! after it and refuses to start if the rebuilt books' state hash differs from the persisted one.
//! Each log entry carries its outcome and stays until both the books snapshot and settlement's
//! watermark pass it, so no outcome is lost across a crash; the order refs already sequenced are
//! kept for good, so a redelivered place is never placed twice. The journal is compacted by a
//! snapshot of the whole store when it has grown past twice the last one ([`store`]). A data
//! directory of the earlier redb version (`shard-K.redb`) is refused.

pub mod bus;
pub mod config;
pub mod domain;
pub mod recovery;
pub mod shard;
pub mod state;
pub mod store;
#[cfg(test)]
mod tests;

pub use config::EngineConfig;
pub use shard::Shard;

use platform::clock::SharedClock;

/// Opens and rebuilds every shard of `config`.
pub fn connect(config: &EngineConfig, clock: &SharedClock) -> anyhow::Result<Vec<Shard>> {
    (0..config.shard_count.max(1))
        .map(|index| {
            let path = config.data_dir.join(format!("shard-{index}"));
            recovery::open(index, &path, clock.clone())
        })
        .collect()
}

/// Starts a shard's thread: it reads `inputs` until every sender is dropped (that is its
/// shutdown), hands outcomes to `deliveries` and keeps the log back to `settled`.
pub fn run_background(
    shard: Shard,
    inputs: tokio::sync::mpsc::Receiver<contracts::embedded::ShardInput>,
    deliveries: contracts::embedded::DeliverySender,
    settled: tokio::sync::watch::Receiver<u64>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    shard.spawn(inputs, deliveries, settled)
}
