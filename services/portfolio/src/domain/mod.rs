//! The rules of money and shares: transaction records, refusals, settlement, the store ports.

pub mod ledger;
pub mod ports;
pub mod records;
pub mod settlement;
