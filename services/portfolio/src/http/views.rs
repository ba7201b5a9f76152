//! `getStockTransactions`: every key always present, null when empty.

use axum::extract::State;
use platform::clock::rfc3339_millis;
use platform::envelope::{ApiOk, ApiResult};
use platform::identity::Caller;
use platform::money::Money;
use serde::Serialize;

use super::PortfolioState;
use crate::domain::records::StockTx;

#[derive(Serialize)]
pub struct StockTxView {
    stock_tx_id: String,
    parent_stock_tx_id: Option<String>,
    stock_id: String,
    wallet_tx_id: Option<String>,
    order_status: &'static str,
    is_buy: bool,
    order_type: &'static str,
    stock_price: Option<Money>,
    quantity: u64,
    time_stamp: String,
}

impl From<StockTx> for StockTxView {
    fn from(tx: StockTx) -> Self {
        Self {
            stock_tx_id: tx.stock_tx_id.to_string(),
            parent_stock_tx_id: tx.parent_stock_tx_id.map(|id| id.to_string()),
            stock_id: tx.stock_id.to_string(),
            wallet_tx_id: tx.wallet_tx_id.map(|id| id.to_string()),
            order_status: tx.status.as_str(),
            is_buy: tx.is_buy,
            order_type: tx.order_type.as_str(),
            stock_price: tx.price_cents.map(Money),
            quantity: tx.quantity,
            time_stamp: rfc3339_millis(tx.time_ns),
        }
    }
}

pub async fn stock_transactions(
    State(state): State<PortfolioState>,
    caller: Caller,
) -> ApiResult<Vec<StockTxView>> {
    let list = state.store.stock_txs(caller.user_id).await?;
    Ok(ApiOk(list.into_iter().map(StockTxView::from).collect()))
}
