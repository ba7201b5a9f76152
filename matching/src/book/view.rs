//! Read-only queries: best prices, depth, orders.

use super::OrderBook;
use super::ladder::Resting;
use super::stops::WaitingStop;
use crate::types::{OrderId, OrderKind, Price, Quantity, Side, UserId};

/// One price level as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DepthLevel {
    /// The level's price.
    pub price: Price,
    /// Total resting lots at that price.
    pub quantity: Quantity,
    /// How many orders rest there.
    pub orders: u32,
}

/// Where a live order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// In the book at its limit price.
    Resting,
    /// A stop waiting for its trigger.
    WaitingForTrigger,
}

/// A live order as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderView {
    /// Its id.
    pub order_id: OrderId,
    /// Its owner.
    pub user_id: UserId,
    /// Buy or sell.
    pub side: Side,
    /// Its limit price; `None` for a waiting market stop.
    pub price: Option<Price>,
    /// Its stop trigger, if it is (or was) a stop order.
    pub stop_price: Option<Price>,
    /// Lots as placed.
    pub quantity: Quantity,
    /// Lots still open.
    pub remaining: Quantity,
    /// Lots filled.
    pub filled: Quantity,
    /// Resting or waiting.
    pub state: OrderState,
}

impl OrderView {
    /// The view of a resting order, whose stop price (if it was a triggered stop-limit) the
    /// ladder keeps aside.
    fn resting(order: &Resting, stop_price: Option<Price>) -> Self {
        Self {
            order_id: order.id,
            user_id: order.user,
            side: order.side,
            price: Some(order.price),
            stop_price,
            quantity: order.quantity,
            remaining: order.remaining,
            filled: order.filled,
            state: OrderState::Resting,
        }
    }
}

impl From<&WaitingStop> for OrderView {
    fn from(stop: &WaitingStop) -> Self {
        let price = match stop.order.kind {
            OrderKind::Limit { price } => Some(price),
            OrderKind::Market { .. } => None,
        };
        Self {
            order_id: stop.order.order_id,
            user_id: stop.order.user_id,
            side: stop.order.side,
            price,
            stop_price: stop.order.stop_price,
            quantity: stop.order.quantity,
            remaining: stop.remaining,
            filled: Quantity(0),
            state: OrderState::WaitingForTrigger,
        }
    }
}

impl OrderBook {
    /// The highest bid level.
    pub fn best_bid(&self) -> Option<DepthLevel> {
        self.depth_iter(Side::Buy).next()
    }

    /// The lowest ask level.
    pub fn best_ask(&self) -> Option<DepthLevel> {
        self.depth_iter(Side::Sell).next()
    }

    /// Up to `levels` price levels of `side`, best first.
    pub fn depth(&self, side: Side, levels: usize) -> Vec<DepthLevel> {
        self.depth_iter(side).take(levels).collect()
    }

    fn depth_iter(&self, side: Side) -> impl Iterator<Item = DepthLevel> + '_ {
        self.ladder.levels(side).map(|level| DepthLevel {
            price: level.price,
            quantity: Quantity(level.total),
            orders: level.count,
        })
    }

    /// A live order (resting, or a stop waiting for its trigger).
    pub fn order(&self, order_id: OrderId) -> Option<OrderView> {
        match self.ladder.find(order_id) {
            Some(slot) => {
                let order = self.ladder.order(slot);
                Some(OrderView::resting(order, self.ladder.stop_price(order.id)))
            }
            None => self.stops.get(order_id).map(OrderView::from),
        }
    }

    /// Every live order: resting bids best first in queue order, then asks, then waiting stops
    /// by id.
    pub fn orders(&self) -> impl Iterator<Item = OrderView> + '_ {
        let resting = self
            .resting_in_priority()
            .map(|order| OrderView::resting(order, self.ladder.stop_price(order.id)));
        resting.chain(self.stops.all().into_iter().map(OrderView::from))
    }

    /// Number of resting orders (not counting waiting stops).
    pub fn resting_count(&self) -> usize {
        self.ladder.len()
    }

    /// Number of stops waiting for their trigger.
    pub fn waiting_stop_count(&self) -> usize {
        self.stops.len()
    }

    /// Resting orders: bids best level first in FIFO order, then asks likewise.
    pub(super) fn resting_in_priority(&self) -> impl Iterator<Item = &Resting> + '_ {
        let side = |side| {
            self.ladder
                .level_slots(side)
                .flat_map(|level| self.ladder.level_orders(level))
        };
        side(Side::Buy).chain(side(Side::Sell))
    }
}
