//! Stocks, wallets, holdings, escrow, settlement, the ledger and the transaction histories.
//!
//! Invariants: cash is integer cents and shares whole lots, `(available, escrowed)` per wallet
//! and holding, never negative (checked arithmetic; a refusal changes nothing). Cash of all
//! users (available + escrowed) only changes by deposits; shares of a stock only by
//! `addStockToUser`; trades move them between users. Each shard outcome is applied exactly once:
//! the shard's watermark is written in the same transaction as its effects. Lists are ordered
//! by a creation sequence, never by wall clock. A change is answered only once it is durable
//! (embedded: journaled; distributed: committed to MongoDB).

pub mod bus;
pub mod cache;
pub mod config;
pub mod domain;
pub mod http;
pub mod settler;
pub mod store;

use std::sync::Arc;

use platform::identity::Authenticator;

pub use config::PortfolioConfig;
pub use domain::ports::PortfolioStore;

/// What the portfolio role needs at run time.
#[derive(Clone)]
pub struct PortfolioDeps {
    /// The store.
    pub store: Arc<dyn PortfolioStore>,
    /// Token verification.
    pub authenticator: Authenticator,
}

/// Opens (or creates) the portfolio's journal in `data_dir` and rebuilds its state.
pub fn connect(
    _config: &PortfolioConfig,
    data_dir: &std::path::Path,
    authenticator: Authenticator,
) -> anyhow::Result<PortfolioDeps> {
    let store: Arc<dyn PortfolioStore> = Arc::new(store::JournalPortfolio::open(data_dir)?);
    Ok(PortfolioDeps {
        store,
        authenticator,
    })
}

/// The HTTP routes of the portfolio role.
pub fn router(deps: &PortfolioDeps) -> axum::Router {
    http::router(http::PortfolioState {
        store: Arc::clone(&deps.store),
        authenticator: deps.authenticator.clone(),
    })
}

/// Starts the background work of the portfolio for one shard: its settler, which applies the
/// shard's outcomes in order and publishes the settled watermark. It stops when the shard's
/// outcome stream closes (the shard stopped), so no separate shutdown signal is needed.
pub fn run_background(
    deps: &PortfolioDeps,
    deliveries: tokio::sync::mpsc::Receiver<contracts::embedded::Delivery>,
    settled: tokio::sync::watch::Sender<u64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(settler::run(Arc::clone(&deps.store), deliveries, settled))
}
