//! The rules of money and shares: transaction records, refusals, escrow, settlement, the store
//! ports.

pub mod escrow;
pub mod ledger;
pub mod ports;
pub mod records;
pub mod settlement;
