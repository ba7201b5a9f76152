//! Order entry: validates an order, has the portfolio escrow what it needs, routes it to the
//! shard that owns its stock (`stock_id % shard_count`), and answers once the shard's outcome
//! is settled, so the next read sees its effects. Also cancels and the price list.
//!
//! Invariants: nothing reaches a shard without its escrow; a refusal before routing changes
//! nothing; a course market buy (FOK, self-trade skip, spend cap = the buyer's cash) that does
//! not fill completely answers 400 and leaves no record (settlement releases the escrow).

pub mod bus;
pub mod buyer_locks;
pub mod config;
pub mod domain;
pub mod http;

use std::sync::Arc;

use platform::identity::Authenticator;
use portfolio::PortfolioStore;

pub use config::OrderConfig;
pub use domain::ports::ShardRouter;

/// What the order role needs at run time.
#[derive(Clone)]
pub struct OrderDeps {
    /// The portfolio (escrow, records, stock names).
    pub portfolio: Arc<dyn PortfolioStore>,
    /// The way to the shards.
    pub shards: Arc<dyn ShardRouter>,
    /// Token verification.
    pub authenticator: Authenticator,
    /// One market buy at a time per buyer.
    pub buyer_locks: Arc<buyer_locks::BuyerLocks>,
}

/// The HTTP routes of the order role.
pub fn router(deps: &OrderDeps) -> axum::Router {
    http::router(deps.clone())
}
