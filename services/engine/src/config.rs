//! Settings of the engine role.

use std::path::PathBuf;

/// Settings of the engine role.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the shard journals live (`shard-K-*.journal`, `shard-K-*.snapshot`).
    pub data_dir: PathBuf,
    /// How many shards (stock id % count).
    pub shard_count: u32,
}
