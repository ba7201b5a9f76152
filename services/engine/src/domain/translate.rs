//! Contract command -> core command, core events -> contract outcome.

use contracts::{
    CancelOrder, CommandResult, EndReason, Fill, OrderEnded, OrderType, PlaceOrder, SelfTrade,
    ShardCommand, ShardOutcome, Side, TimeInForce, TradeId,
};
use matching::{
    Action, Command, DoneReason, Event, NewOrder, Notional, OrderId, OrderKind, Price, Quantity,
    SelfTradePrevention, StockId, UserId,
};

use super::refs::OrderRefs;

fn side(side: Side) -> matching::Side {
    match side {
        Side::Buy => matching::Side::Buy,
        Side::Sell => matching::Side::Sell,
    }
}

fn contract_side(side: matching::Side) -> Side {
    match side {
        matching::Side::Buy => Side::Buy,
        matching::Side::Sell => Side::Sell,
    }
}

fn time_in_force(tif: TimeInForce) -> matching::TimeInForce {
    match tif {
        TimeInForce::Gtc => matching::TimeInForce::Gtc,
        TimeInForce::Ioc => matching::TimeInForce::Ioc,
        TimeInForce::Fok => matching::TimeInForce::Fok,
    }
}

fn self_trade(mode: SelfTrade) -> SelfTradePrevention {
    match mode {
        SelfTrade::Skip => SelfTradePrevention::Skip,
        SelfTrade::CancelNewest => SelfTradePrevention::CancelNewest,
        SelfTrade::CancelOldest => SelfTradePrevention::CancelOldest,
        SelfTrade::CancelBoth => SelfTradePrevention::CancelBoth,
        SelfTrade::Decrement => SelfTradePrevention::Decrement,
    }
}

/// The core order for `place` with the shard-assigned `core_id`.
pub fn new_order(place: &PlaceOrder, core_id: u64) -> NewOrder {
    let kind = match place.order_type {
        OrderType::Limit { price_cents } => OrderKind::Limit {
            price: Price(price_cents),
        },
        OrderType::Market { quote_cap_cents } => OrderKind::Market {
            quote_cap: quote_cap_cents.map(|cap| Notional(u128::from(cap))),
        },
    };
    NewOrder {
        order_id: OrderId(core_id),
        user_id: UserId(place.user_id),
        side: side(place.side),
        kind,
        quantity: Quantity(place.quantity),
        time_in_force: time_in_force(place.time_in_force),
        post_only: place.post_only,
        self_trade: self_trade(place.self_trade),
        stop_price: None,
    }
}

/// The core command for a place.
pub fn place_command(
    place: &PlaceOrder,
    core_id: u64,
    sequence: u64,
    timestamp_ns: u64,
) -> Command {
    Command {
        stock_id: StockId(place.stock_id),
        sequence,
        timestamp_ns,
        action: Action::Place(new_order(place, core_id)),
    }
}

/// The core command for a cancel of the live core order `core_id`.
pub fn cancel_command(
    cancel: &CancelOrder,
    core_id: u64,
    sequence: u64,
    timestamp_ns: u64,
) -> Command {
    Command {
        stock_id: StockId(cancel.stock_id),
        sequence,
        timestamp_ns,
        action: Action::Cancel {
            order_id: OrderId(core_id),
            user_id: UserId(cancel.user_id),
        },
    }
}

/// An outcome with no effects yet.
pub fn empty_outcome(
    shard: u32,
    sequence: u64,
    timestamp_ns: u64,
    command: ShardCommand,
) -> ShardOutcome {
    ShardOutcome {
        version: contracts::CONTRACT_VERSION,
        shard,
        sequence,
        timestamp_ns,
        command,
        result: CommandResult::Accepted,
        fills: Vec::new(),
        ended: Vec::new(),
    }
}

/// The reason of [`trimmed_duplicate`] outcomes.
pub const TRIMMED_DUPLICATE: &str = "duplicate order_ref: already sequenced and handed off";

/// The answer to a place sequenced long ago whose logged outcome is gone (handed off, then
/// dropped by a snapshot): a rejection carrying the original `sequence`, so settlement (which is
/// past it) skips it. The distributed engine acks such a command without publishing anything.
pub fn trimmed_duplicate(shard: u32, sequence: u64, command: ShardCommand) -> ShardOutcome {
    let mut outcome = empty_outcome(shard, sequence, 0, command);
    outcome.result = CommandResult::Rejected {
        reason: TRIMMED_DUPLICATE.to_owned(),
    };
    outcome
}

/// True for a [`trimmed_duplicate`] outcome.
pub fn is_trimmed_duplicate(outcome: &ShardOutcome) -> bool {
    matches!(&outcome.result, CommandResult::Rejected { reason } if reason == TRIMMED_DUPLICATE)
}

/// Folds the core `events` of one command into `outcome`, keeping `refs` in step.
pub fn fold_events(events: &[Event], refs: &mut OrderRefs, outcome: &mut ShardOutcome) {
    for event in events {
        match event {
            Event::Rejected {
                order_id, reason, ..
            } => {
                if matches!(outcome.command, ShardCommand::Place(_)) {
                    refs.remove_core(order_id.0);
                }
                outcome.result = CommandResult::Rejected {
                    reason: format!("{reason:?}"),
                };
            }
            Event::Trade(trade) => {
                let (buyer, buyer_user) = trade.buyer();
                let (seller, seller_user) = trade.seller();
                outcome.fills.push(Fill {
                    trade_id: TradeId {
                        stock_id: trade.stock_id.0,
                        sequence: trade.trade_sequence,
                    },
                    price_cents: trade.price.0,
                    quantity: trade.quantity.0,
                    buyer_ref: refs.order_ref(buyer.0).unwrap_or(0),
                    buyer_user: buyer_user.0,
                    seller_ref: refs.order_ref(seller.0).unwrap_or(0),
                    seller_user: seller_user.0,
                    taker_side: contract_side(trade.maker_side.opposite()),
                });
            }
            Event::Done {
                order_id,
                user_id,
                reason,
                filled,
                remaining,
                ..
            } => {
                let order_ref = refs.remove_core(order_id.0).unwrap_or(0);
                outcome.ended.push(OrderEnded {
                    order_ref,
                    user_id: user_id.0,
                    reason: end_reason(*reason),
                    filled: filled.0,
                    remaining: remaining.0,
                });
            }
            Event::Accepted { .. }
            | Event::Triggered { .. }
            | Event::Reduced { .. }
            | Event::LevelChanged { .. } => {}
        }
    }
}

fn end_reason(reason: DoneReason) -> EndReason {
    match reason {
        DoneReason::Filled => EndReason::Filled,
        DoneReason::Cancelled(_) => EndReason::Cancelled,
        DoneReason::Expired(_) => EndReason::Expired,
    }
}
