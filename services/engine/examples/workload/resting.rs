//! The workload the engine examples fill a shard with: resting limit sells spread over 8 books
//! (even stock ids, so one shard of 2 gets them all), 50 users and 5,000 price levels.

use contracts::{OrderType, PlaceOrder, SelfTrade, ShardCommand, Side, TimeInForce};

/// The `order_ref`-th resting sell.
pub fn resting_sell(order_ref: u64) -> ShardCommand {
    ShardCommand::Place(PlaceOrder {
        order_ref,
        user_id: 1 + order_ref % 50,
        stock_id: 2 * (order_ref % 8),
        side: Side::Sell,
        order_type: OrderType::Limit {
            price_cents: 10_000 + order_ref % 5_000,
        },
        quantity: 10,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        self_trade: SelfTrade::Skip,
    })
}
