//! Settings of the engine role.

use std::path::PathBuf;

/// Settings of the engine role.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the shard files live (`shard-K.redb`).
    pub data_dir: PathBuf,
    /// How many shards (stock id % count).
    pub shard_count: u32,
}
