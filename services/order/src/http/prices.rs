//! `GET /transaction/getStockPrices`: the best ask of every stock that has one, by stock name
//! descending (byte order).

use std::collections::BTreeMap;

use axum::extract::State;
use platform::envelope::{ApiOk, ApiResult};
use platform::identity::Caller;
use platform::money::Money;
use serde::Serialize;

use crate::OrderDeps;

#[derive(Serialize)]
pub struct PriceView {
    stock_id: String,
    stock_name: String,
    current_price: Money,
}

pub async fn get_stock_prices(
    State(deps): State<OrderDeps>,
    _caller: Caller,
) -> ApiResult<Vec<PriceView>> {
    let asks: BTreeMap<u64, u64> = deps
        .shards
        .best_asks()
        .await?
        .into_iter()
        .map(|a| (a.stock_id, a.price_cents))
        .collect();
    let mut prices: Vec<PriceView> = deps
        .portfolio
        .stocks()
        .await?
        .into_iter()
        .filter_map(|(stock_id, stock_name)| {
            asks.get(&stock_id).map(|price| PriceView {
                stock_id: stock_id.to_string(),
                stock_name,
                current_price: Money(*price),
            })
        })
        .collect();
    prices.sort_by(|a, b| b.stock_name.as_bytes().cmp(a.stock_name.as_bytes()));
    Ok(ApiOk(prices))
}
