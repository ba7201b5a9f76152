//! Plumbing every service of the exchange shares, and nothing domain-specific.
//!
//! - [`error::ApiError`]: the one place a failure becomes an HTTP status and the envelope
//!   `{"success":false,"data":{"error":"..."}}`; [`envelope::ApiOk`] is the success envelope.
//! - [`json_body::JsonBody`]: the body extractor (400 on malformed JSON or wrong types, 413 on an
//!   oversized body); GET handlers never take it, so a GET body is never parsed.
//! - [`money`]: exact decimal parsing at the edge (cents and whole lots inside, no floats ever)
//!   and JSON number emission (integral values as JSON integers).
//! - [`identity`]: JWT verification (HS256 pinned, `exp`, `iat`, `sub` required) and the
//!   [`identity::Caller`] extractor (`token` header, else `Authorization: Bearer`).
//! - [`group_commit`]: one writer thread per store that commits a drained batch of jobs in one
//!   transaction (durable jobs fsync'd; volatile ones first, made durable by the next durable
//!   commit) and answers each job only after its commit.
//! - [`journal`]: an append-only journal with group fsync and snapshots, for state kept in
//!   memory (the embedded portfolio and the shards).
//! - [`amqp`]: RabbitMQ connection with retry, confirmed publishing, topology, decoding.
//! - [`clock`], [`shutdown`], [`telemetry`], [`fallback`] (404/405 in the envelope).

pub mod amqp;
pub mod clock;
pub mod envelope;
pub mod error;
pub mod fallback;
pub mod group_commit;
pub mod identity;
pub mod ids;
pub mod journal;
pub mod json_body;
pub mod money;
pub mod priority;
pub mod remembered_users;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
