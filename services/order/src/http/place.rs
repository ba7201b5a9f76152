//! `POST /engine/placeStockOrder`.

use axum::extract::State;
use contracts::{ShardCommand, Side};
use platform::envelope::{ApiOk, ApiResult};
use platform::error::ApiError;
use platform::identity::Caller;
use platform::json_body::JsonBody;
use portfolio::domain::ports::EscrowRequest;

use super::parse::{PlaceBody, order_request};
use crate::OrderDeps;
use crate::domain::order::{expired_before_placed, placement_refusal};

pub async fn place_stock_order(
    State(deps): State<OrderDeps>,
    caller: Caller,
    JsonBody(body): JsonBody<PlaceBody>,
) -> ApiResult<()> {
    let request = order_request(body)?;
    if !deps.shards.ready() {
        return Err(ApiError::Unavailable(anyhow::anyhow!(
            "no route to the matching shards; nothing was reserved"
        )));
    }
    let is_market_buy = request.side == Side::Buy && request.limit_price_cents.is_none();
    let _serial = if is_market_buy {
        deps.buyer_locks.lock(caller.user_id).await
    } else {
        None
    };
    let escrow = deps
        .portfolio
        .reserve(EscrowRequest {
            user_id: caller.user_id,
            stock_id: request.stock_id,
            side: request.side,
            quantity: request.quantity,
            limit_price_cents: request.limit_price_cents,
            client_order_id: request.client_order_id,
        })
        .await?
        .map_err(|refusal| ApiError::BadRequest(refusal.0))?;
    if escrow.duplicate {
        return first_answer(&deps, escrow.order_ref).await;
    }
    let place = request.to_place(escrow.order_ref, caller.user_id, escrow.cash_cents);
    let outcome = deps.shards.execute(ShardCommand::Place(place)).await?;
    if expired_before_placed(&outcome, escrow.order_ref) {
        return Err(ApiError::Unavailable(anyhow::anyhow!(
            "order {}: the order expired before it reached its shard; nothing was placed",
            escrow.order_ref
        )));
    }
    match placement_refusal(&outcome, escrow.order_ref) {
        Some(message) => Err(ApiError::BadRequest(message)),
        None => Ok(ApiOk(())),
    }
}

/// The answer to a repeated `client_order_id`: the first order's, read from its state. An
/// order that was accepted has a record; one that was refused or killed has neither a record nor
/// escrow; one still in flight holds escrow but has no record yet.
async fn first_answer(deps: &OrderDeps, order_ref: u64) -> ApiResult<()> {
    if deps.portfolio.stock_tx(order_ref).await?.is_some() {
        return Ok(ApiOk(()));
    }
    if deps.portfolio.has_reservation(order_ref).await? {
        return Err(ApiError::bad_request(
            "the order with this client_order_id is still being processed",
        ));
    }
    Err(ApiError::bad_request(
        "the order with this client_order_id was not placed",
    ))
}
