//! `placeStockOrder`, `cancelStockTransaction`, `getStockPrices`.

mod cancel;
mod parse;
mod place;
mod prices;

#[cfg(test)]
mod tests;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use platform::identity::Authenticator;

use crate::OrderDeps;

impl FromRef<OrderDeps> for Authenticator {
    fn from_ref(deps: &OrderDeps) -> Self {
        deps.authenticator.clone()
    }
}

/// The routes, with their state.
pub fn router(deps: OrderDeps) -> Router {
    Router::new()
        .route("/engine/placeStockOrder", post(place::place_stock_order))
        .route(
            "/engine/cancelStockTransaction",
            post(cancel::cancel_stock_transaction),
        )
        .route("/transaction/getStockPrices", get(prices::get_stock_prices))
        .with_state(deps)
}
