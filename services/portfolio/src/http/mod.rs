//! The portfolio routes: setup, wallet, holdings and transaction histories.

mod setup;
mod views;
mod wallet;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use platform::error::ApiError;
use platform::identity::Authenticator;

use crate::domain::ports::{PortfolioStore, Refusal};

/// The state of the portfolio routes.
#[derive(Clone)]
pub struct PortfolioState {
    /// The store.
    pub store: Arc<dyn PortfolioStore>,
    /// Token verification.
    pub authenticator: Authenticator,
}

impl FromRef<PortfolioState> for Authenticator {
    fn from_ref(state: &PortfolioState) -> Self {
        state.authenticator.clone()
    }
}

/// The routes, with their state.
pub fn router(state: PortfolioState) -> Router {
    Router::new()
        .route("/setup/createStock", post(setup::create_stock))
        .route("/setup/addStockToUser", post(setup::add_stock_to_user))
        .route("/transaction/addMoneyToWallet", post(wallet::add_money))
        .route("/transaction/getWalletBalance", get(wallet::balance))
        .route(
            "/transaction/getWalletTransactions",
            get(wallet::transactions),
        )
        .route("/transaction/getStockPortfolio", get(setup::portfolio))
        .route(
            "/transaction/getStockTransactions",
            get(views::stock_transactions),
        )
        .with_state(state)
}

/// A refusal is a 400.
pub(crate) fn refused(refusal: Refusal) -> ApiError {
    ApiError::BadRequest(refusal.0)
}
