//! A deliberately naive reference matcher: a flat `Vec` of resting orders in arrival order,
//! re-sorted on every match, and fill-or-kill decided by running the order on a clone and
//! throwing the clone away when it does not fill. Slow and obvious, so the real book can be
//! compared against it after every step.

use matching::{
    Action, CancelReason, Command, DoneReason, Event, ExpireReason, NewOrder, OrderId, OrderKind,
    OrderState, OrderView, Price, Quantity, RejectReason, SelfTradePrevention, Side, StockId,
    TimeInForce, Trade, UserId,
};

#[derive(Debug, Clone)]
struct RefResting {
    view: OrderView,
}

#[derive(Debug, Clone)]
pub struct RefBook {
    stock_id: StockId,
    resting: Vec<RefResting>,
    stops: Vec<(NewOrder, u64)>,
    last_id: Option<OrderId>,
    trades: u64,
    last_price: Option<Price>,
}

enum End {
    Filled,
    NoLiquidity,
    QuoteCap,
    SelfTrade,
}

impl RefBook {
    pub fn new(stock_id: StockId) -> Self {
        Self {
            stock_id,
            resting: Vec::new(),
            stops: Vec::new(),
            last_id: None,
            trades: 0,
            last_price: None,
        }
    }

    pub fn apply(&mut self, command: &Command) -> Vec<Event> {
        let mut out = Vec::new();
        match command.action {
            Action::Place(order) => self.place(command, order, &mut out),
            Action::Cancel { order_id, user_id } => {
                if self.owner_ok(order_id, user_id, &mut out) {
                    self.remove(order_id, CancelReason::ByUser, &mut out);
                }
            }
            Action::Reduce {
                order_id,
                user_id,
                by,
            } => self.reduce(order_id, user_id, by.0, &mut out),
            Action::CancelAll { user_id } => {
                let mut ids: Vec<OrderId> = self
                    .live()
                    .into_iter()
                    .filter(|o| o.user_id == user_id)
                    .map(|o| o.order_id)
                    .collect();
                ids.sort();
                if ids.is_empty() {
                    out.push(self.reject(OrderId(0), user_id, RejectReason::NothingToCancel));
                }
                for id in ids {
                    self.remove(id, CancelReason::ByUser, &mut out);
                }
            }
        }
        out
    }

    /// Every live order, by id.
    pub fn live(&self) -> Vec<OrderView> {
        let mut all: Vec<OrderView> = self.resting.iter().map(|r| r.view).collect();
        for (order, remaining) in &self.stops {
            all.push(OrderView {
                order_id: order.order_id,
                user_id: order.user_id,
                side: order.side,
                price: match order.kind {
                    OrderKind::Limit { price } => Some(price),
                    OrderKind::Market { .. } => None,
                },
                stop_price: order.stop_price,
                quantity: order.quantity,
                remaining: Quantity(*remaining),
                filled: Quantity(0),
                state: OrderState::WaitingForTrigger,
            });
        }
        all.sort_by_key(|o| o.order_id);
        all
    }

    /// (price, total, count) per level of a side, best first.
    pub fn depth(&self, side: Side) -> Vec<(u64, u64, u32)> {
        let mut prices: Vec<u64> = self
            .resting
            .iter()
            .filter(|r| r.view.side == side)
            .filter_map(|r| r.view.price.map(|p| p.0))
            .collect();
        prices.sort();
        prices.dedup();
        if side == Side::Buy {
            prices.reverse();
        }
        prices
            .into_iter()
            .map(|price| {
                let at: Vec<&RefResting> = self
                    .resting
                    .iter()
                    .filter(|r| r.view.side == side && r.view.price == Some(Price(price)))
                    .collect();
                (
                    price,
                    at.iter().map(|r| r.view.remaining.0).sum(),
                    u32::try_from(at.len()).unwrap_or(u32::MAX),
                )
            })
            .collect()
    }

    fn reject(&self, order_id: OrderId, user_id: UserId, reason: RejectReason) -> Event {
        Event::Rejected {
            stock_id: self.stock_id,
            order_id,
            user_id,
            reason,
        }
    }

    fn owner_ok(&self, order_id: OrderId, user_id: UserId, out: &mut Vec<Event>) -> bool {
        match self.live().into_iter().find(|o| o.order_id == order_id) {
            None => out.push(self.reject(order_id, user_id, RejectReason::UnknownOrder)),
            Some(o) if o.user_id != user_id => {
                out.push(self.reject(order_id, user_id, RejectReason::NotOwner))
            }
            Some(_) => return true,
        }
        false
    }

    fn reduce(&mut self, order_id: OrderId, user_id: UserId, by: u64, out: &mut Vec<Event>) {
        if by == 0 {
            out.push(self.reject(order_id, user_id, RejectReason::ZeroQuantity));
            return;
        }
        if !self.owner_ok(order_id, user_id, out) {
            return;
        }
        let current = self
            .live()
            .into_iter()
            .find(|o| o.order_id == order_id)
            .map_or(0, |o| o.remaining.0);
        if by >= current {
            self.remove(order_id, CancelReason::ReducedToZero, out);
            return;
        }
        if let Some(r) = self
            .resting
            .iter_mut()
            .find(|r| r.view.order_id == order_id)
        {
            r.view.remaining.0 -= by;
        }
        if let Some(s) = self.stops.iter_mut().find(|s| s.0.order_id == order_id) {
            s.1 -= by;
        }
        out.push(Event::Reduced {
            stock_id: self.stock_id,
            order_id,
            user_id,
            remaining: Quantity(current - by),
        });
    }

    fn remove(&mut self, order_id: OrderId, reason: CancelReason, out: &mut Vec<Event>) {
        if let Some(i) = self
            .resting
            .iter()
            .position(|r| r.view.order_id == order_id)
        {
            let r = self.resting.remove(i);
            out.push(self.done(
                r.view.order_id,
                r.view.user_id,
                DoneReason::Cancelled(reason),
                r.view.filled.0,
                r.view.remaining.0,
            ));
        } else if let Some(i) = self.stops.iter().position(|s| s.0.order_id == order_id) {
            let (order, remaining) = self.stops.remove(i);
            out.push(self.done(
                order.order_id,
                order.user_id,
                DoneReason::Cancelled(reason),
                0,
                remaining,
            ));
        }
    }

    fn done(
        &self,
        order_id: OrderId,
        user_id: UserId,
        reason: DoneReason,
        filled: u64,
        remaining: u64,
    ) -> Event {
        Event::Done {
            stock_id: self.stock_id,
            order_id,
            user_id,
            reason,
            filled: Quantity(filled),
            remaining: Quantity(remaining),
        }
    }

    fn validate(&self, o: &NewOrder) -> Option<RejectReason> {
        let market = matches!(o.kind, OrderKind::Market { .. });
        if o.quantity.0 == 0 {
            return Some(RejectReason::ZeroQuantity);
        }
        if o.kind == (OrderKind::Limit { price: Price(0) }) || o.stop_price == Some(Price(0)) {
            return Some(RejectReason::ZeroPrice);
        }
        if let OrderKind::Market {
            quote_cap: Some(cap),
        } = o.kind
            && (o.side == Side::Sell || cap.0 == 0)
        {
            return Some(RejectReason::InvalidQuoteCap);
        }
        if (market && o.time_in_force == TimeInForce::Gtc)
            || (o.post_only
                && (market || o.time_in_force != TimeInForce::Gtc || o.stop_price.is_some()))
        {
            return Some(RejectReason::InvalidTimeInForce);
        }
        if self.last_id.is_some_and(|last| o.order_id <= last) {
            return Some(RejectReason::DuplicateOrderId);
        }
        if o.post_only && self.crosses(o) {
            return Some(RejectReason::PostOnlyWouldTake);
        }
        None
    }

    fn acceptable(o: &NewOrder, price: Price) -> bool {
        match (o.kind, o.side) {
            (OrderKind::Market { .. }, _) => true,
            (OrderKind::Limit { price: limit }, Side::Buy) => price <= limit,
            (OrderKind::Limit { price: limit }, Side::Sell) => price >= limit,
        }
    }

    fn crosses(&self, o: &NewOrder) -> bool {
        self.resting
            .iter()
            .any(|r| r.view.side != o.side && Self::acceptable(o, r.view.price.unwrap_or(Price(0))))
    }

    fn reached(side: Side, stop: Price, last: Option<Price>) -> bool {
        match (side, last) {
            (_, None) => false,
            (Side::Buy, Some(last)) => last >= stop,
            (Side::Sell, Some(last)) => last <= stop,
        }
    }

    fn place(&mut self, command: &Command, order: NewOrder, out: &mut Vec<Event>) {
        if let Some(reason) = self.validate(&order) {
            out.push(self.reject(order.order_id, order.user_id, reason));
            return;
        }
        self.last_id = Some(order.order_id);
        out.push(Event::Accepted {
            stock_id: self.stock_id,
            order,
        });
        let mut queue = Vec::new();
        match order.stop_price {
            Some(stop) if !Self::reached(order.side, stop, self.last_price) => {
                self.stops.push((order, order.quantity.0));
                return;
            }
            Some(_) => queue.push((order, order.quantity.0)),
            None => {
                self.execute(command, order, order.quantity.0, out);
                queue.extend(self.take_reached());
            }
        }
        let mut next = 0;
        while next < queue.len() {
            let (stop, remaining) = queue[next];
            next += 1;
            out.push(Event::Triggered {
                stock_id: self.stock_id,
                order_id: stop.order_id,
                user_id: stop.user_id,
            });
            self.execute(command, stop, remaining, out);
            queue.extend(self.take_reached());
        }
    }

    fn take_reached(&mut self) -> Vec<(NewOrder, u64)> {
        let last = self.last_price;
        let (mut reached, waiting): (Vec<_>, Vec<_>) = self
            .stops
            .drain(..)
            .partition(|(o, _)| Self::reached(o.side, o.stop_price.unwrap_or(Price(0)), last));
        self.stops = waiting;
        reached.sort_by_key(|(o, _)| o.order_id);
        reached
    }

    fn execute(&mut self, command: &Command, order: NewOrder, quantity: u64, out: &mut Vec<Event>) {
        if order.time_in_force == TimeInForce::Fok {
            let mut trial = self.clone();
            let mut trial_out = Vec::new();
            let (end, filled, _) = trial.walk(command, &order, quantity, &mut trial_out);
            if !matches!(end, End::Filled) || filled < quantity {
                out.push(self.done(
                    order.order_id,
                    order.user_id,
                    DoneReason::Expired(ExpireReason::FillOrKill),
                    0,
                    quantity,
                ));
                return;
            }
        }
        let (end, filled, remaining) = self.walk(command, &order, quantity, out);
        let reason = match end {
            End::Filled if filled < quantity => DoneReason::Cancelled(CancelReason::SelfTrade),
            End::Filled => DoneReason::Filled,
            End::SelfTrade => DoneReason::Cancelled(CancelReason::SelfTrade),
            End::QuoteCap => DoneReason::Expired(ExpireReason::QuoteCapReached),
            End::NoLiquidity => match (order.kind, order.time_in_force) {
                (OrderKind::Limit { price }, TimeInForce::Gtc) => {
                    if self.crosses(&order) {
                        DoneReason::Cancelled(CancelReason::SelfTrade)
                    } else if self.level_would_overflow(order.side, price, remaining) {
                        DoneReason::Cancelled(CancelReason::LevelFull)
                    } else {
                        self.resting.push(RefResting {
                            view: OrderView {
                                order_id: order.order_id,
                                user_id: order.user_id,
                                side: order.side,
                                price: Some(price),
                                stop_price: order.stop_price,
                                quantity: order.quantity,
                                remaining: Quantity(remaining),
                                filled: Quantity(filled),
                                state: OrderState::Resting,
                            },
                        });
                        return;
                    }
                }
                _ => DoneReason::Expired(ExpireReason::ImmediateOrCancel),
            },
        };
        out.push(self.done(order.order_id, order.user_id, reason, filled, remaining));
    }

    fn level_would_overflow(&self, side: Side, price: Price, add: u64) -> bool {
        let total: u128 = self
            .resting
            .iter()
            .filter(|r| r.view.side == side && r.view.price == Some(price))
            .map(|r| u128::from(r.view.remaining.0))
            .sum();
        total + u128::from(add) > u128::from(u64::MAX)
    }

    /// The best maker for `order` not in `skipped`: best price, then earliest arrival.
    fn best_maker(&self, order: &NewOrder, skipped: &[OrderId]) -> Option<(u64, OrderId)> {
        self.resting
            .iter()
            .enumerate()
            .filter(|(_, r)| r.view.side != order.side && !skipped.contains(&r.view.order_id))
            .min_by_key(|(arrival, r)| {
                let price = r.view.price.map_or(0, |p| p.0);
                match order.side {
                    Side::Buy => (price, *arrival),
                    Side::Sell => (u64::MAX - price, *arrival),
                }
            })
            .map(|(_, r)| (r.view.price.map_or(0, |p| p.0), r.view.order_id))
    }

    /// Matches in price-time order, picking the best maker afresh each time; returns how it
    /// ended, lots filled and lots remaining.
    fn walk(
        &mut self,
        command: &Command,
        order: &NewOrder,
        quantity: u64,
        out: &mut Vec<Event>,
    ) -> (End, u64, u64) {
        let mut skipped: Vec<OrderId> = Vec::new();
        let mut cap: Option<u128> = match order.kind {
            OrderKind::Market { quote_cap } => quote_cap.map(|c| c.0),
            OrderKind::Limit { .. } => None,
        };
        let (mut remaining, mut filled) = (quantity, 0u64);
        while let Some((price, maker_id)) = self.best_maker(order, &skipped) {
            if remaining == 0 {
                return (End::Filled, filled, 0);
            }
            if !Self::acceptable(order, Price(price)) {
                break;
            }
            let i = self
                .resting
                .iter()
                .position(|r| r.view.order_id == maker_id)
                .expect("maker still rests");
            let maker = self.resting[i].view;
            if maker.user_id == order.user_id {
                match order.self_trade {
                    SelfTradePrevention::Skip => {
                        skipped.push(maker_id);
                        continue;
                    }
                    SelfTradePrevention::CancelNewest => {
                        return (End::SelfTrade, filled, remaining);
                    }
                    SelfTradePrevention::CancelOldest | SelfTradePrevention::CancelBoth => {
                        self.remove(maker_id, CancelReason::SelfTrade, out);
                        if order.self_trade == SelfTradePrevention::CancelBoth {
                            return (End::SelfTrade, filled, remaining);
                        }
                        continue;
                    }
                    SelfTradePrevention::Decrement => {
                        let lots = maker.remaining.0.min(remaining);
                        remaining -= lots;
                        if lots == maker.remaining.0 {
                            self.remove(maker_id, CancelReason::SelfTrade, out);
                        } else {
                            self.resting[i].view.remaining.0 -= lots;
                            out.push(Event::Reduced {
                                stock_id: self.stock_id,
                                order_id: maker_id,
                                user_id: maker.user_id,
                                remaining: Quantity(maker.remaining.0 - lots),
                            });
                        }
                        if remaining == 0 {
                            return (End::SelfTrade, filled, 0);
                        }
                        out.push(Event::Reduced {
                            stock_id: self.stock_id,
                            order_id: order.order_id,
                            user_id: order.user_id,
                            remaining: Quantity(remaining),
                        });
                        continue;
                    }
                }
            }
            let affordable = cap.map_or(u64::MAX, |c| {
                u64::try_from(c / u128::from(price)).unwrap_or(u64::MAX)
            });
            let lots = maker.remaining.0.min(remaining).min(affordable);
            if lots == 0 {
                return (End::QuoteCap, filled, remaining);
            }
            self.trades += 1;
            self.last_price = Some(Price(price));
            out.push(Event::Trade(Trade {
                stock_id: self.stock_id,
                trade_sequence: self.trades,
                command_sequence: command.sequence,
                timestamp_ns: command.timestamp_ns,
                price: Price(price),
                quantity: Quantity(lots),
                maker_order_id: maker_id,
                maker_user_id: maker.user_id,
                taker_order_id: order.order_id,
                taker_user_id: order.user_id,
                maker_side: maker.side,
            }));
            remaining -= lots;
            filled += lots;
            if let Some(c) = cap.as_mut() {
                *c -= u128::from(price) * u128::from(lots);
            }
            let m = &mut self.resting[i].view;
            m.remaining.0 -= lots;
            m.filled.0 += lots;
            if m.remaining.0 == 0 {
                let done = self.resting.remove(i).view;
                out.push(self.done(
                    done.order_id,
                    done.user_id,
                    DoneReason::Filled,
                    done.filled.0,
                    0,
                ));
            }
        }
        if remaining == 0 {
            return (End::Filled, filled, 0);
        }
        (End::NoLiquidity, filled, remaining)
    }
}
