//! Order rules: the parsed order, the shard port.

pub mod order;
pub mod ports;
