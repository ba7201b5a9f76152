//! Settings of the order role.

/// Settings of the order role.
#[derive(Debug, Clone)]
pub struct OrderConfig {
    /// How many shards (stock id % count).
    pub shard_count: u32,
}
