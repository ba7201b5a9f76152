//! A placed order as the domain sees it, parsed from the request, and how it ended.

use contracts::{
    CommandResult, OrderType, PlaceOrder, SelfTrade, ShardCommand, ShardOutcome, Side, TimeInForce,
};
use portfolio::domain::ports::ClientOrderId;

/// A validated order request (before escrow gives it an id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRequest {
    /// The stock.
    pub stock_id: u64,
    /// Buy or sell.
    pub side: Side,
    /// Limit price; `None` for market.
    pub limit_price_cents: Option<u64>,
    /// Lots.
    pub quantity: u64,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Post only.
    pub post_only: bool,
    /// Self-trade prevention.
    pub self_trade: SelfTrade,
    /// The client's idempotency key.
    pub client_order_id: Option<ClientOrderId>,
}

impl OrderRequest {
    /// The shard command once escrow granted `order_ref` (and `cash_cents` for a market buy).
    pub fn to_place(self, order_ref: u64, user_id: u64, cash_cents: u64) -> PlaceOrder {
        let order_type = match (self.limit_price_cents, self.side) {
            (Some(price_cents), _) => OrderType::Limit { price_cents },
            (None, Side::Buy) => OrderType::Market {
                quote_cap_cents: Some(cash_cents),
            },
            (None, Side::Sell) => OrderType::Market {
                quote_cap_cents: None,
            },
        };
        PlaceOrder {
            order_ref,
            user_id,
            stock_id: self.stock_id,
            side: self.side,
            order_type,
            quantity: self.quantity,
            time_in_force: self.time_in_force,
            post_only: self.post_only,
            self_trade: self.self_trade,
        }
    }
}

/// True when the shard answered a place with the outcome of an expire of its order ref: the
/// orphan sweeper expired the order before the place reached its shard (this process stalled
/// between its reservation and its publish), so nothing was placed and the escrow is released.
/// Not the client's fault, and not a refusal of the order itself: a 503, retry.
pub fn expired_before_placed(outcome: &ShardOutcome, order_ref: u64) -> bool {
    matches!(outcome.command, ShardCommand::Expire(expire) if expire.order_ref == order_ref)
}

/// Why a placed order is answered with a 400 after the shard saw it, if it is.
pub fn placement_refusal(outcome: &ShardOutcome, order_ref: u64) -> Option<String> {
    if let CommandResult::Rejected { reason } = &outcome.result {
        return Some(format!("order rejected: {reason}"));
    }
    let own_end = outcome
        .ended
        .iter()
        .find(|end| end.order_ref == order_ref)?;
    (own_end.filled == 0 && outcome.fills.is_empty())
        .then(|| "order could not be filled: not enough shares offered by other users or insufficient funds".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::{EndReason, ExpireOrder, OrderEnded};

    fn outcome(ended: Vec<OrderEnded>) -> ShardOutcome {
        let request = OrderRequest {
            stock_id: 1,
            side: Side::Buy,
            limit_price_cents: None,
            quantity: 5,
            time_in_force: TimeInForce::Fok,
            post_only: false,
            self_trade: SelfTrade::Skip,
            client_order_id: None,
        };
        ShardOutcome {
            version: 1,
            shard: 0,
            sequence: 1,
            timestamp_ns: 0,
            command: ShardCommand::Place(request.to_place(9, 1, 500)),
            result: CommandResult::Accepted,
            fills: vec![],
            ended,
        }
    }

    #[test]
    fn an_unfilled_fok_is_refused_and_a_resting_order_is_not() {
        let killed = OrderEnded {
            order_ref: 9,
            user_id: 1,
            reason: EndReason::Expired,
            filled: 0,
            remaining: 5,
        };
        assert!(placement_refusal(&outcome(vec![killed]), 9).is_some());
        assert!(placement_refusal(&outcome(vec![]), 9).is_none());
    }

    #[test]
    fn a_place_answered_by_an_expire_is_told_apart() {
        let mut expired = outcome(vec![OrderEnded {
            order_ref: 9,
            user_id: 1,
            reason: EndReason::Expired,
            filled: 0,
            remaining: 0,
        }]);
        assert!(!expired_before_placed(&expired, 9), "a killed place");
        expired.command = ShardCommand::Expire(ExpireOrder {
            order_ref: 9,
            user_id: 1,
            stock_id: 1,
        });
        assert!(expired_before_placed(&expired, 9));
        assert!(!expired_before_placed(&expired, 8));
    }

    #[test]
    fn a_market_buy_is_capped_by_its_escrow() {
        let place = outcome(vec![]).command;
        assert!(
            matches!(place, ShardCommand::Place(p) if p.order_type == OrderType::Market { quote_cap_cents: Some(500) })
        );
    }
}
