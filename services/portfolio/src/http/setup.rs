//! `createStock`, `addStockToUser`, `getStockPortfolio`.

use axum::extract::State;
use platform::envelope::{ApiOk, ApiResult};
use platform::identity::Caller;
use platform::ids::parse_id;
use platform::json_body::{JsonBody, required};
use platform::money::parse_positive_lots;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{PortfolioState, refused};

#[derive(Deserialize)]
pub struct CreateStockBody {
    stock_name: Option<String>,
}

#[derive(Serialize)]
pub struct StockIdData {
    stock_id: String,
}

pub async fn create_stock(
    State(state): State<PortfolioState>,
    _caller: Caller,
    JsonBody(body): JsonBody<CreateStockBody>,
) -> ApiResult<StockIdData> {
    let name = required(body.stock_name, "stock_name")?;
    let stock_id = state.store.create_stock(name).await?.map_err(refused)?;
    Ok(ApiOk(StockIdData {
        stock_id: stock_id.to_string(),
    }))
}

#[derive(Deserialize)]
pub struct AddStockBody {
    stock_id: Option<Box<RawValue>>,
    quantity: Option<Box<RawValue>>,
}

pub async fn add_stock_to_user(
    State(state): State<PortfolioState>,
    caller: Caller,
    JsonBody(body): JsonBody<AddStockBody>,
) -> ApiResult<()> {
    let stock_id = parse_id(&required(body.stock_id, "stock_id")?, "stock_id")?;
    let quantity = parse_positive_lots(&required(body.quantity, "quantity")?, "quantity")?;
    state
        .store
        .add_shares(caller.user_id, stock_id, quantity)
        .await?
        .map_err(refused)?;
    Ok(ApiOk(()))
}

#[derive(Serialize)]
pub struct HoldingView {
    stock_id: String,
    stock_name: String,
    quantity_owned: u64,
}

pub async fn portfolio(
    State(state): State<PortfolioState>,
    caller: Caller,
) -> ApiResult<Vec<HoldingView>> {
    let holdings = state.store.holdings(caller.user_id).await?;
    Ok(ApiOk(
        holdings
            .into_iter()
            .map(|h| HoldingView {
                stock_id: h.stock_id.to_string(),
                stock_name: h.stock_name,
                quantity_owned: h.quantity,
            })
            .collect(),
    ))
}
