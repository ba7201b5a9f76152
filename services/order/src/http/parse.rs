//! The place-order body -> [`OrderRequest`]: raw values stop here.

use contracts::{SelfTrade, Side, TimeInForce};
use platform::error::ApiError;
use platform::ids::parse_id;
use platform::json_body::required;
use platform::money::{parse_positive_cents, parse_positive_lots};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::domain::order::OrderRequest;
use portfolio::domain::ports::ClientOrderId;

/// The JSON body of `placeStockOrder` (Part 1 fields plus the optional Part 2 ones).
#[derive(Deserialize)]
pub struct PlaceBody {
    stock_id: Option<Box<RawValue>>,
    is_buy: Option<bool>,
    order_type: Option<String>,
    quantity: Option<Box<RawValue>>,
    price: Option<Box<RawValue>>,
    time_in_force: Option<String>,
    post_only: Option<bool>,
    self_trade: Option<String>,
    client_order_id: Option<String>,
}

fn time_in_force(text: Option<&str>, is_market: bool) -> Result<TimeInForce, ApiError> {
    match (text.map(str::to_ascii_uppercase).as_deref(), is_market) {
        (None, true) | (Some("FOK"), _) => Ok(TimeInForce::Fok),
        (None, false) | (Some("GTC"), false) => Ok(TimeInForce::Gtc),
        (Some("IOC"), _) => Ok(TimeInForce::Ioc),
        (Some("GTC"), true) => Err(ApiError::bad_request("a MARKET order cannot be GTC")),
        _ => Err(ApiError::bad_request(
            "time_in_force must be GTC, IOC or FOK",
        )),
    }
}

fn self_trade(text: Option<&str>) -> Result<SelfTrade, ApiError> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("skip") => Ok(SelfTrade::Skip),
        Some("cancel_newest") => Ok(SelfTrade::CancelNewest),
        Some("cancel_oldest") => Ok(SelfTrade::CancelOldest),
        Some("cancel_both") => Ok(SelfTrade::CancelBoth),
        Some("decrement") => Ok(SelfTrade::Decrement),
        Some(_) => Err(ApiError::bad_request("self_trade is not a known mode")),
    }
}

/// Validates the body.
pub fn order_request(body: PlaceBody) -> Result<OrderRequest, ApiError> {
    let stock_id = parse_id(&required(body.stock_id, "stock_id")?, "stock_id")?;
    let is_buy = required(body.is_buy, "is_buy")?;
    let order_type = required(body.order_type, "order_type")?;
    let quantity = parse_positive_lots(&required(body.quantity, "quantity")?, "quantity")?;
    let is_market = match order_type.as_str() {
        "MARKET" => true,
        "LIMIT" => false,
        _ => return Err(ApiError::bad_request("order_type must be MARKET or LIMIT")),
    };
    let limit_price_cents = match (is_market, body.price) {
        (true, None) => None,
        (true, Some(_)) => return Err(ApiError::bad_request("a MARKET order takes no price")),
        (false, price) => Some(parse_positive_cents(&required(price, "price")?, "price")?),
    };
    let time_in_force = time_in_force(body.time_in_force.as_deref(), is_market)?;
    let post_only = body.post_only.unwrap_or(false);
    if post_only && (is_market || time_in_force != TimeInForce::Gtc) {
        return Err(ApiError::bad_request("post_only needs a GTC LIMIT order"));
    }
    Ok(OrderRequest {
        stock_id,
        side: if is_buy { Side::Buy } else { Side::Sell },
        limit_price_cents,
        quantity,
        time_in_force,
        post_only,
        self_trade: self_trade(body.self_trade.as_deref())?,
        client_order_id: body
            .client_order_id
            .as_deref()
            .map(ClientOrderId::parse)
            .transpose()
            .map_err(|refusal| ApiError::BadRequest(refusal.0))?,
    })
}
