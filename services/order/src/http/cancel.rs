//! `POST /engine/cancelStockTransaction`.

use axum::extract::State;
use contracts::{CancelOrder, CommandResult, ShardCommand};
use platform::envelope::{ApiOk, ApiResult};
use platform::error::ApiError;
use platform::identity::Caller;
use platform::ids::parse_id;
use platform::json_body::{JsonBody, required};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::OrderDeps;

#[derive(Deserialize)]
pub struct CancelBody {
    stock_tx_id: Option<Box<RawValue>>,
}

pub async fn cancel_stock_transaction(
    State(deps): State<OrderDeps>,
    caller: Caller,
    JsonBody(body): JsonBody<CancelBody>,
) -> ApiResult<()> {
    let stock_tx_id = parse_id(&required(body.stock_tx_id, "stock_tx_id")?, "stock_tx_id")?;
    let not_cancellable = || ApiError::bad_request("no open order of yours with this stock_tx_id");
    let order = deps
        .portfolio
        .stock_tx(stock_tx_id)
        .await?
        .ok_or_else(not_cancellable)?;
    if order.user_id != caller.user_id
        || order.parent_stock_tx_id.is_some()
        || !order.status.is_live()
    {
        return Err(not_cancellable());
    }
    let command = ShardCommand::Cancel(CancelOrder {
        order_ref: stock_tx_id,
        user_id: caller.user_id,
        stock_id: order.stock_id,
    });
    match deps.shards.execute(command).await?.result {
        CommandResult::Accepted => Ok(ApiOk(())),
        CommandResult::Rejected { .. } => Err(not_cancellable()),
    }
}
