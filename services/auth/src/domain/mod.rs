//! The rules of users: validated inputs, the store port, the use cases.

pub mod ports;
pub mod service;
pub mod user;
