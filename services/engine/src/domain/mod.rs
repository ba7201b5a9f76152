//! Pure rules of a shard: translating contract commands into core commands and core events into
//! the outcome the shard publishes.

pub mod refs;
pub mod translate;
