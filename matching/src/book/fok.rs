//! The fill-or-kill check: a read-only walk that predicts whether matching would fill the whole
//! order, applying the same price, quote-cap and self-trade rules as the real walk, so that an
//! unfillable FOK leaves the book untouched.

use super::OrderBook;
use super::taker::Taker;
use crate::types::{Notional, Quantity, SelfTradePrevention};

impl OrderBook {
    pub(super) fn fok_fillable(&self, taker: &Taker) -> bool {
        let other = taker.order.side.opposite();
        let mut need = taker.remaining;
        let mut probe = Taker::new(taker.order, Quantity(need));
        let mut level = self.ladder.best(other);
        while let Some(current) = level {
            let price = self.ladder.level(current).price;
            if !probe.accepts(price) {
                return false;
            }
            for maker in self.ladder.level_orders(current) {
                if maker.user == probe.order.user_id {
                    match probe.order.self_trade {
                        // Skipped, or cancelled while the taker goes on: no liquidity either way.
                        SelfTradePrevention::Skip | SelfTradePrevention::CancelOldest => continue,
                        // The taker would be cancelled or decremented: it cannot fill completely.
                        SelfTradePrevention::CancelNewest
                        | SelfTradePrevention::CancelBoth
                        | SelfTradePrevention::Decrement => return false,
                    }
                }
                let lots = maker.remaining.0.min(need).min(probe.affordable(price));
                if lots == 0 {
                    return false;
                }
                need -= lots;
                if let Some(cap) = probe.cap_left.as_mut() {
                    *cap -= Notional::of(price, Quantity(lots)).0;
                }
                if need == 0 {
                    return true;
                }
            }
            probe.remaining = need;
            level = self.ladder.next_level(other, price);
        }
        false
    }
}
