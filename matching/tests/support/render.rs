//! Renders events and books as the short text the scenario tables compare against.

use matching::{CancelReason, DoneReason, Event, ExpireReason, OrderBook, RejectReason, Side};

/// Renders the events of one command, leaving out `Accepted` and `LevelChanged` (depth is
/// checked through the book ladder and the depth-replay check). Nothing left: `rests` after a
/// place, `-` otherwise.
pub fn render_events(events: &[Event], was_place: bool) -> String {
    let parts: Vec<String> = events.iter().filter_map(render_event).collect();
    if parts.is_empty() {
        return if was_place {
            "rests".into()
        } else {
            "-".into()
        };
    }
    parts.join(", ")
}

fn render_event(event: &Event) -> Option<String> {
    Some(match event {
        Event::Accepted { .. } | Event::LevelChanged { .. } => return None,
        Event::Rejected {
            order_id, reason, ..
        } => {
            format!("rejected #{} {}", order_id.0, reject_name(*reason))
        }
        Event::Trade(t) => {
            format!(
                "T #{}<-#{} {}@{}",
                t.maker_order_id.0, t.taker_order_id.0, t.quantity.0, t.price.0
            )
        }
        Event::Triggered { order_id, .. } => format!("triggered #{}", order_id.0),
        Event::Reduced {
            order_id,
            remaining,
            ..
        } => {
            format!("reduced #{} to {}", order_id.0, remaining.0)
        }
        Event::Done {
            order_id,
            reason,
            remaining,
            ..
        } => {
            let left = if remaining.0 > 0 {
                format!(" {} left", remaining.0)
            } else {
                String::new()
            };
            format!("done #{} {}{left}", order_id.0, done_name(*reason))
        }
    })
}

fn reject_name(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::ZeroQuantity => "zero-quantity",
        RejectReason::ZeroPrice => "zero-price",
        RejectReason::InvalidQuoteCap => "invalid-quote-cap",
        RejectReason::InvalidTimeInForce => "invalid-tif",
        RejectReason::DuplicateOrderId => "duplicate-id",
        RejectReason::PostOnlyWouldTake => "post-only-would-take",
        RejectReason::UnknownOrder => "unknown-order",
        RejectReason::NotOwner => "not-owner",
        RejectReason::NothingToCancel => "nothing-to-cancel",
    }
}

fn done_name(reason: DoneReason) -> &'static str {
    match reason {
        DoneReason::Filled => "filled",
        DoneReason::Cancelled(CancelReason::ByUser) => "cancelled",
        DoneReason::Cancelled(CancelReason::ReducedToZero) => "cancelled(reduced)",
        DoneReason::Cancelled(CancelReason::SelfTrade) => "cancelled(stp)",
        DoneReason::Cancelled(CancelReason::LevelFull) => "cancelled(level-full)",
        DoneReason::Expired(ExpireReason::ImmediateOrCancel) => "expired(ioc)",
        DoneReason::Expired(ExpireReason::FillOrKill) => "expired(fok)",
        DoneReason::Expired(ExpireReason::QuoteCapReached) => "expired(cap)",
    }
}

/// The ladder: asks from the highest price down, then bids from the highest down; each level
/// lists its orders in queue order as `#id remaining`.
pub fn render_book(book: &OrderBook) -> String {
    let mut rows: Vec<String> = Vec::new();
    let mut asks = book.depth(Side::Sell, usize::MAX);
    asks.reverse();
    let bids = book.depth(Side::Buy, usize::MAX);
    for (name, side, levels) in [("ask", Side::Sell, asks), ("bid", Side::Buy, bids)] {
        for level in levels {
            let queue: Vec<String> = book
                .orders()
                .filter(|o| {
                    o.side == side
                        && o.price == Some(level.price)
                        && o.state == matching::OrderState::Resting
                })
                .map(|o| format!("#{} {}", o.order_id.0, o.remaining.0))
                .collect();
            rows.push(format!("{name} {}: {}", level.price.0, queue.join(", ")));
        }
    }
    if rows.is_empty() {
        "empty".into()
    } else {
        rows.join(" | ")
    }
}
