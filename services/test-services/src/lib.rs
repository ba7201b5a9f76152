//! Real outside services for tests, started on loopback and isolated per test: a MongoDB-wire
//! server (SecantusDB, installed by `scripts/infra/mongo`), Redis, RabbitMQ and nginx.
//!
//! Invariants: a service a test asks for is running when the constructor returns, or the
//! constructor panics with what is missing and the command that installs it (a test never
//! silently skips). Everything a test starts is stopped when its handle is dropped; names that
//! live in shared servers (databases, key prefixes, queue prefixes) are unique per handle.
//! Only 127.0.0.1 is ever used.

pub mod loopback;
pub mod mongo;
pub mod nginx;
pub mod rabbitmq;
pub mod redis;
