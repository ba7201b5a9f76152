//! The rules of money and shares: transaction records, refusals, the store port.

pub mod ports;
pub mod records;
