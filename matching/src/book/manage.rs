//! Cancel, reduce and cancel-all: the owner's changes to orders already in the book.

use super::OrderBook;
use crate::event::{CancelReason, DoneReason, Event, RejectReason};
use crate::types::{OrderId, Quantity, UserId};

impl OrderBook {
    fn reject(
        &self,
        order_id: OrderId,
        user_id: UserId,
        reason: RejectReason,
        out: &mut Vec<Event>,
    ) {
        out.push(Event::Rejected {
            stock_id: self.stock_id,
            order_id,
            user_id,
            reason,
        });
    }

    /// Who owns a live order (resting or waiting), if it is live.
    fn owner_of(&self, order_id: OrderId) -> Option<UserId> {
        match self.ladder.find(order_id) {
            Some(slot) => Some(self.ladder.order(slot).user),
            None => self.stops.get(order_id).map(|stop| stop.order.user_id),
        }
    }

    /// Checks that `user_id` may change `order_id`; rejects (and returns false) otherwise.
    fn may_change(&self, order_id: OrderId, user_id: UserId, out: &mut Vec<Event>) -> bool {
        match self.owner_of(order_id) {
            None => self.reject(order_id, user_id, RejectReason::UnknownOrder, out),
            Some(owner) if owner != user_id => {
                self.reject(order_id, user_id, RejectReason::NotOwner, out)
            }
            Some(_) => return true,
        }
        false
    }

    pub(super) fn cancel(&mut self, order_id: OrderId, user_id: UserId, out: &mut Vec<Event>) {
        // The hot path (a resting order) looks the id up once; waiting stops take the general path.
        if let Some(slot) = self.ladder.find(order_id) {
            if self.ladder.order(slot).user == user_id {
                self.cancel_resting(slot, CancelReason::ByUser, out);
            } else {
                self.reject(order_id, user_id, RejectReason::NotOwner, out);
            }
        } else if self.may_change(order_id, user_id, out) {
            self.remove_live(order_id, CancelReason::ByUser, out);
        }
    }

    pub(super) fn reduce(
        &mut self,
        order_id: OrderId,
        user_id: UserId,
        by: Quantity,
        out: &mut Vec<Event>,
    ) {
        if by.0 == 0 {
            return self.reject(order_id, user_id, RejectReason::ZeroQuantity, out);
        }
        if !self.may_change(order_id, user_id, out) {
            return;
        }
        let slot = self.ladder.find(order_id);
        let current = match slot {
            Some(slot) => self.ladder.order(slot).remaining.0,
            None => self.stops.get(order_id).map_or(0, |stop| stop.remaining.0),
        };
        if by.0 >= current {
            self.remove_live(order_id, CancelReason::ReducedToZero, out);
            return;
        }
        let remaining = Quantity(current - by.0);
        out.push(Event::Reduced {
            stock_id: self.stock_id,
            order_id,
            user_id,
            remaining,
        });
        let Some(slot) = slot else {
            self.stops.reduce(order_id, by.0);
            return;
        };
        self.ladder.take(slot, by.0, false);
        let order = self.ladder.order(slot);
        let (side, price) = (order.side, order.price);
        let total = Quantity(self.ladder.level(self.ladder.level_of(slot)).total);
        out.push(Event::LevelChanged {
            stock_id: self.stock_id,
            side,
            price,
            quantity: total,
        });
    }

    pub(super) fn cancel_all(&mut self, user_id: UserId, out: &mut Vec<Event>) {
        let mut ids: Vec<OrderId> = self
            .ladder
            .all()
            .filter(|o| o.user == user_id)
            .map(|o| o.id)
            .collect();
        ids.extend(self.stops.of_user(user_id));
        if ids.is_empty() {
            return self.reject(OrderId(0), user_id, RejectReason::NothingToCancel, out);
        }
        ids.sort_unstable();
        for id in ids {
            self.remove_live(id, CancelReason::ByUser, out);
        }
    }

    /// Removes a live order for `reason`, with its Done and (if resting) LevelChanged events.
    fn remove_live(&mut self, order_id: OrderId, reason: CancelReason, out: &mut Vec<Event>) {
        if let Some(slot) = self.ladder.find(order_id) {
            self.cancel_resting(slot, reason, out);
        } else if let Some(stop) = self.stops.remove(order_id) {
            out.push(Event::Done {
                stock_id: self.stock_id,
                order_id,
                user_id: stop.order.user_id,
                reason: DoneReason::Cancelled(reason),
                filled: Quantity(0),
                remaining: stop.remaining,
            });
        }
    }

    /// Removes a resting order for `reason`: Done for it, then its level's new total.
    fn cancel_resting(&mut self, slot: u32, reason: CancelReason, out: &mut Vec<Event>) {
        let (side, price) = (self.ladder.order(slot).side, self.ladder.order(slot).price);
        let total = self.end_resting(slot, reason, out);
        out.push(Event::LevelChanged {
            stock_id: self.stock_id,
            side,
            price,
            quantity: Quantity(total),
        });
    }

    /// Removes a resting order for `reason` with its Done event; returns its level's new total
    /// (the caller reports the level, once, when it is done with it).
    pub(super) fn end_resting(
        &mut self,
        slot: u32,
        reason: CancelReason,
        out: &mut Vec<Event>,
    ) -> u64 {
        let (order, total) = self.ladder.remove(slot);
        out.push(Event::Done {
            stock_id: self.stock_id,
            order_id: order.id,
            user_id: order.user,
            reason: DoneReason::Cancelled(reason),
            filled: order.filled,
            remaining: order.remaining,
        });
        total
    }
}
