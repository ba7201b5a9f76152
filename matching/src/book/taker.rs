//! Placing an order: validation, matching against the other side, then resting or ending it.

use super::snapshot::RestingSnapshot;
use super::stops::{WaitingStop, is_reached};
use super::{OrderBook, Stamp};
use crate::event::{CancelReason, DoneReason, Event, ExpireReason, RejectReason, Trade};
use crate::types::{
    NewOrder, Notional, OrderKind, Price, Quantity, SelfTradePrevention, Side, TimeInForce,
};

/// An incoming order while it matches.
pub(super) struct Taker {
    pub order: NewOrder,
    /// Lots it entered matching with (as placed, less reductions while it waited as a stop).
    pub initial: u64,
    pub remaining: u64,
    pub filled: u64,
    /// What a capped market buy may still spend.
    pub cap_left: Option<u128>,
}

impl Taker {
    pub fn new(order: NewOrder, remaining: Quantity) -> Self {
        let cap_left = match order.kind {
            OrderKind::Market { quote_cap } => quote_cap.map(|cap| cap.0),
            OrderKind::Limit { .. } => None,
        };
        Self {
            order,
            initial: remaining.0,
            remaining: remaining.0,
            filled: 0,
            cap_left,
        }
    }

    /// Whether the taker may trade at a maker's `price`.
    pub fn accepts(&self, price: Price) -> bool {
        match (self.order.kind, self.order.side) {
            (OrderKind::Market { .. }, _) => true,
            (OrderKind::Limit { price: limit }, Side::Buy) => price <= limit,
            (OrderKind::Limit { price: limit }, Side::Sell) => price >= limit,
        }
    }

    /// Lots the quote cap still affords at `price` (unbounded without a cap).
    pub fn affordable(&self, price: Price) -> u64 {
        match self.cap_left {
            None => u64::MAX,
            Some(cap) => u64::try_from(cap / u128::from(price.0)).unwrap_or(u64::MAX),
        }
    }
}

/// Why a walk over the other side stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WalkEnd {
    /// The taker's remainder reached zero by trading.
    Filled,
    /// No more acceptable liquidity (price limit or empty side).
    NoLiquidity,
    /// The next lot would exceed the quote cap.
    QuoteCap,
    /// Self-trade prevention ended the taker.
    SelfTrade,
}

/// How matching within one level ended.
enum LevelEnd {
    Next,
    Stop(WalkEnd),
}

impl OrderBook {
    pub(super) fn place(&mut self, stamp: Stamp, order: NewOrder, out: &mut Vec<Event>) {
        if let Err(reason) = self.validate(&order) {
            out.push(self.rejected(&order, reason));
            return;
        }
        self.last_order_id = Some(order.order_id);
        out.push(Event::Accepted {
            stock_id: self.stock_id,
            order,
        });
        let waiting = WaitingStop {
            order,
            remaining: order.quantity,
        };
        match order.stop_price {
            Some(stop) if !is_reached(order.side, stop, self.last_trade_price) => {
                self.stops.insert(waiting);
            }
            Some(_) => {
                self.triggered.push(waiting);
                self.run_triggered(stamp, out);
            }
            None => {
                self.execute(stamp, order, order.quantity, out);
                self.release_stops(stamp, out);
            }
        }
    }

    fn rejected(&self, order: &NewOrder, reason: RejectReason) -> Event {
        Event::Rejected {
            stock_id: self.stock_id,
            order_id: order.order_id,
            user_id: order.user_id,
            reason,
        }
    }

    /// The checks of [`RejectReason`], in its order of precedence.
    fn validate(&self, order: &NewOrder) -> Result<(), RejectReason> {
        if order.quantity.0 == 0 {
            return Err(RejectReason::ZeroQuantity);
        }
        let limit_price = match order.kind {
            OrderKind::Limit { price } => Some(price),
            OrderKind::Market { .. } => None,
        };
        if limit_price == Some(Price(0)) || order.stop_price == Some(Price(0)) {
            return Err(RejectReason::ZeroPrice);
        }
        if let OrderKind::Market {
            quote_cap: Some(cap),
        } = order.kind
            && (order.side == Side::Sell || cap.0 == 0)
        {
            return Err(RejectReason::InvalidQuoteCap);
        }
        let is_market = limit_price.is_none();
        let post_only_misused = order.post_only
            && (is_market || order.time_in_force != TimeInForce::Gtc || order.stop_price.is_some());
        if (is_market && order.time_in_force == TimeInForce::Gtc) || post_only_misused {
            return Err(RejectReason::InvalidTimeInForce);
        }
        if self
            .last_order_id
            .is_some_and(|last| order.order_id <= last)
        {
            return Err(RejectReason::DuplicateOrderId);
        }
        if order.post_only && self.would_take(order) {
            return Err(RejectReason::PostOnlyWouldTake);
        }
        Ok(())
    }

    /// Whether any resting order on the other side is at an acceptable price (any owner).
    fn would_take(&self, order: &NewOrder) -> bool {
        let taker = Taker::new(*order, order.quantity);
        self.ladder
            .best(order.side.opposite())
            .is_some_and(|level| taker.accepts(self.ladder.level(level).price))
    }

    /// Matches an accepted (or just triggered) order, then rests or ends it.
    pub(super) fn execute(
        &mut self,
        stamp: Stamp,
        order: NewOrder,
        remaining: Quantity,
        out: &mut Vec<Event>,
    ) {
        let mut taker = Taker::new(order, remaining);
        if order.time_in_force == TimeInForce::Fok && !self.fok_fillable(&taker) {
            self.finish(&taker, DoneReason::Expired(ExpireReason::FillOrKill), out);
            return;
        }
        let end = self.walk(stamp, &mut taker, out);
        let reason = match end {
            // Nothing left, but a self-trade decrement took part of it: not a complete fill.
            WalkEnd::Filled if taker.filled < taker.initial => {
                DoneReason::Cancelled(CancelReason::SelfTrade)
            }
            WalkEnd::Filled => DoneReason::Filled,
            WalkEnd::SelfTrade => DoneReason::Cancelled(CancelReason::SelfTrade),
            WalkEnd::QuoteCap => DoneReason::Expired(ExpireReason::QuoteCapReached),
            WalkEnd::NoLiquidity => match (order.kind, order.time_in_force) {
                (OrderKind::Limit { price }, TimeInForce::Gtc) => {
                    match self.rest(&taker, price, out) {
                        None => return,
                        Some(reason) => reason,
                    }
                }
                _ => DoneReason::Expired(ExpireReason::ImmediateOrCancel),
            },
        };
        self.finish(&taker, reason, out);
    }

    /// Rests a GTC residual at `price`; `Some(reason)` when it must end instead.
    fn rest(&mut self, taker: &Taker, price: Price, out: &mut Vec<Event>) -> Option<DoneReason> {
        // Only the taker's own skipped orders can still cross here; resting would cross the book.
        if self.would_take(&taker.order) {
            return Some(DoneReason::Cancelled(CancelReason::SelfTrade));
        }
        let order = &taker.order;
        let resting = RestingSnapshot {
            order_id: order.order_id,
            user_id: order.user_id,
            side: order.side,
            price,
            quantity: order.quantity,
            filled: Quantity(taker.filled),
            remaining: Quantity(taker.remaining),
            stop_price: order.stop_price,
        };
        let Some(total) = self.ladder.rest(resting) else {
            return Some(DoneReason::Cancelled(CancelReason::LevelFull));
        };
        out.push(Event::LevelChanged {
            stock_id: self.stock_id,
            side: order.side,
            price,
            quantity: Quantity(total),
        });
        None
    }

    fn finish(&self, taker: &Taker, reason: DoneReason, out: &mut Vec<Event>) {
        out.push(Event::Done {
            stock_id: self.stock_id,
            order_id: taker.order.order_id,
            user_id: taker.order.user_id,
            reason,
            filled: Quantity(taker.filled),
            remaining: Quantity(taker.remaining),
        });
    }

    /// Walks the other side from its best level until the taker is done.
    fn walk(&mut self, stamp: Stamp, taker: &mut Taker, out: &mut Vec<Event>) -> WalkEnd {
        let other = taker.order.side.opposite();
        let mut level = self.ladder.best(other);
        while let Some(current) = level {
            let price = self.ladder.level(current).price;
            if !taker.accepts(price) {
                break;
            }
            let end = self.match_level(stamp, taker, current, out);
            if let LevelEnd::Stop(end) = end {
                return end;
            }
            level = self.ladder.next_level(other, price);
        }
        WalkEnd::NoLiquidity
    }

    /// Matches the taker against one level in FIFO order, then reports the level's new total.
    fn match_level(
        &mut self,
        stamp: Stamp,
        taker: &mut Taker,
        level: u32,
        out: &mut Vec<Event>,
    ) -> LevelEnd {
        let (price, side) = (
            self.ladder.level(level).price,
            self.ladder.level(level).side,
        );
        let mut changed = false;
        let mut slot = Some(self.ladder.level(level).head);
        let end = loop {
            if taker.remaining == 0 {
                break LevelEnd::Stop(WalkEnd::Filled);
            }
            let Some(maker) = slot else {
                break LevelEnd::Next;
            };
            slot = self.ladder.next_in_level(maker);
            if self.ladder.order(maker).user == taker.order.user_id {
                match self.prevent_self_trade(taker, maker, &mut changed, out) {
                    Some(end) => break LevelEnd::Stop(end),
                    None => continue,
                }
            }
            let lots = self
                .ladder
                .order(maker)
                .remaining
                .0
                .min(taker.remaining)
                .min(taker.affordable(price));
            if lots == 0 {
                break LevelEnd::Stop(WalkEnd::QuoteCap);
            }
            changed = true;
            if self.trade(stamp, taker, maker, lots, out) > 0 && taker.remaining > 0 {
                // The maker outlived the trade, so the quote cap limited it: the taker is done.
                break LevelEnd::Stop(WalkEnd::QuoteCap);
            }
        };
        if changed {
            let quantity = Quantity(self.ladder.level(level).total);
            out.push(Event::LevelChanged {
                stock_id: self.stock_id,
                side,
                price,
                quantity,
            });
        }
        end
    }

    /// Executes `lots` between the taker and a maker, ending the maker if it is filled.
    /// Returns what remains of the maker.
    fn trade(
        &mut self,
        stamp: Stamp,
        taker: &mut Taker,
        maker: u32,
        lots: u64,
        out: &mut Vec<Event>,
    ) -> u64 {
        let resting = self.ladder.order(maker);
        let (price, maker_id, maker_user, maker_side) =
            (resting.price, resting.id, resting.user, resting.side);
        self.trade_sequence += 1;
        self.last_trade_price = Some(price);
        out.push(Event::Trade(Trade {
            stock_id: self.stock_id,
            trade_sequence: self.trade_sequence,
            command_sequence: stamp.sequence,
            timestamp_ns: stamp.timestamp_ns,
            price,
            quantity: Quantity(lots),
            maker_order_id: maker_id,
            maker_user_id: maker_user,
            taker_order_id: taker.order.order_id,
            taker_user_id: taker.order.user_id,
            maker_side,
        }));
        taker.remaining -= lots;
        taker.filled += lots;
        if let Some(cap) = taker.cap_left.as_mut() {
            *cap -= Notional::of(price, Quantity(lots)).0;
        }
        let maker_left = self.ladder.take(maker, lots, true);
        if maker_left == 0 {
            let (done, _) = self.ladder.remove(maker);
            out.push(Event::Done {
                stock_id: self.stock_id,
                order_id: done.id,
                user_id: done.user,
                reason: DoneReason::Filled,
                filled: done.filled,
                remaining: Quantity(0),
            });
        }
        maker_left
    }

    /// Applies the taker's self-trade mode against its own resting order `maker`.
    /// `Some(end)` stops the walk; `None` goes on with the next maker.
    fn prevent_self_trade(
        &mut self,
        taker: &mut Taker,
        maker: u32,
        changed: &mut bool,
        out: &mut Vec<Event>,
    ) -> Option<WalkEnd> {
        match taker.order.self_trade {
            SelfTradePrevention::Skip => None,
            SelfTradePrevention::CancelNewest => Some(WalkEnd::SelfTrade),
            SelfTradePrevention::CancelOldest => {
                self.end_resting(maker, CancelReason::SelfTrade, out);
                *changed = true;
                None
            }
            SelfTradePrevention::CancelBoth => {
                self.end_resting(maker, CancelReason::SelfTrade, out);
                *changed = true;
                Some(WalkEnd::SelfTrade)
            }
            SelfTradePrevention::Decrement => {
                let lots = self.ladder.order(maker).remaining.0.min(taker.remaining);
                taker.remaining -= lots;
                self.decrement_resting(maker, lots, out);
                *changed = true;
                if taker.remaining == 0 {
                    return Some(WalkEnd::SelfTrade);
                }
                // The taker shrank too; say so, so the event stream alone gives every remainder.
                out.push(Event::Reduced {
                    stock_id: self.stock_id,
                    order_id: taker.order.order_id,
                    user_id: taker.order.user_id,
                    remaining: Quantity(taker.remaining),
                });
                None
            }
        }
    }

    /// Takes `lots` off a resting order without a trade: cancelled if nothing is left.
    fn decrement_resting(&mut self, maker: u32, lots: u64, out: &mut Vec<Event>) {
        if self.ladder.order(maker).remaining.0 == lots {
            self.end_resting(maker, CancelReason::SelfTrade, out);
            return;
        }
        let remaining = self.ladder.take(maker, lots, false);
        let order = self.ladder.order(maker);
        out.push(Event::Reduced {
            stock_id: self.stock_id,
            order_id: order.id,
            user_id: order.user,
            remaining: Quantity(remaining),
        });
    }

    /// Releases the stops reached by the last trade price, cascading, in trigger order.
    fn release_stops(&mut self, stamp: Stamp, out: &mut Vec<Event>) {
        if self.stops.is_empty() {
            return;
        }
        if let Some(last) = self.last_trade_price {
            self.stops.take_triggered(last, &mut self.triggered);
        }
        self.run_triggered(stamp, out);
    }

    /// Executes queued triggered stops one by one; each may release more.
    fn run_triggered(&mut self, stamp: Stamp, out: &mut Vec<Event>) {
        let mut next = 0;
        while next < self.triggered.len() {
            let stop = self.triggered[next];
            next += 1;
            out.push(Event::Triggered {
                stock_id: self.stock_id,
                order_id: stop.order.order_id,
                user_id: stop.order.user_id,
            });
            self.execute(stamp, stop.order, stop.remaining, out);
            if let Some(last) = self.last_trade_price
                && !self.stops.is_empty()
            {
                self.stops.take_triggered(last, &mut self.triggered);
            }
        }
        self.triggered.clear();
    }
}
