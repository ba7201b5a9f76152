//! System tests of the exchange: they talk HTTP to a running exchange, exactly as the course's
//! graders and our users do, and never reach into the services' code.
//!
//! - [`app`] starts the `exchange` binary on a free loopback port with its own temporary data
//!   directory (or points at an already running deployment through `EXCHANGE_BASE_URL`), waits for
//!   `GET /health`, and can `kill -9` and restart it on the same data directory.
//! - [`http`] is a small blocking client that keeps the status, the raw body text and the JSON.
//! - [`trader`] wraps one registered, logged-in user with typed calls for every Part 1 endpoint.
//! - [`checks`] holds the assertions the API contract needs (envelopes, id alphabet, RFC 3339
//!   timestamps with milliseconds, JSON integers for integral values).
//! - [`money`] turns JSON numbers into integer cents so sums are exact.
//! - [`ledger`] reads every account through the API and checks the conservation invariants.
//!
//! Limits: the harness assumes the binary's flags `--listen --data-dir --shards --bcrypt-cost`.

pub mod app;
pub mod binary;
pub mod checks;
pub mod deployment;
pub mod http;
pub mod ledger;
pub mod logs;
pub mod money;
pub mod names;
pub mod stream;
pub mod topology;
pub mod trader;
