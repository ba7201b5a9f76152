//! Translation of a workload to the peer crates `nanobook` (0.19) and `matchcore` (0.4), done up
//! front so that the timed loops only call each engine, and trade extraction for the agreement
//! check.
//!
//! Id mapping: ours are `sequence + 1`; matchcore's are the command sequence number (it requires
//! consecutive sequence numbers from 0, and every command of a stream has one); nanobook assigns
//! 1, 2, 3, ... to each submitted order itself, so the translation counts places.

#![allow(dead_code, missing_docs)]

use matching::{Action, Command, OrderKind, Side, TimeInForce};

use super::Workload;

/// A trade as all three engines can report it: price, lots, maker id, taker id (our ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Print {
    pub price: u64,
    pub quantity: u64,
    pub maker: u64,
    pub taker: u64,
}

/// Why a stream cannot be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// A nanobook call.
#[derive(Debug, Clone, Copy)]
pub enum NbCommand {
    Limit(nanobook::Side, nanobook::Price, u64, nanobook::TimeInForce),
    Market(nanobook::Side, u64),
    Cancel(nanobook::OrderId),
}

fn nb_side(side: Side) -> nanobook::Side {
    match side {
        Side::Buy => nanobook::Side::Buy,
        Side::Sell => nanobook::Side::Sell,
    }
}

fn mc_side(side: Side) -> matchcore::Side {
    match side {
        Side::Buy => matchcore::Side::Buy,
        Side::Sell => matchcore::Side::Sell,
    }
}

fn price_i64(price: u64) -> i64 {
    i64::try_from(price).unwrap_or(i64::MAX)
}

/// Our order id -> nanobook's, for every place of the prefill and the stream.
#[derive(Debug, Default)]
pub struct NbIds {
    to_nb: Vec<u64>,
    from_nb: Vec<u64>,
}

impl NbIds {
    fn index(id: u64) -> usize {
        usize::try_from(id).unwrap_or(usize::MAX)
    }

    pub fn ours(&self, nb: u64) -> u64 {
        self.from_nb.get(Self::index(nb)).copied().unwrap_or(0)
    }
}

/// The prefill and stream as nanobook calls.
pub fn to_nanobook(
    workload: &Workload,
) -> Result<(Vec<NbCommand>, Vec<NbCommand>, NbIds), Unsupported> {
    let mut ids = NbIds {
        to_nb: Vec::new(),
        from_nb: vec![0],
    };
    let mut convert = |commands: &[Command]| -> Result<Vec<NbCommand>, Unsupported> {
        let mut out = Vec::with_capacity(commands.len());
        for command in commands {
            let translated = match command.action {
                Action::Place(order) => {
                    let ours = order.order_id.0;
                    if ids.to_nb.len() <= NbIds::index(ours) {
                        ids.to_nb.resize(NbIds::index(ours) + 1, 0);
                    }
                    ids.to_nb[NbIds::index(ours)] = ids.from_nb.len() as u64;
                    ids.from_nb.push(ours);
                    let side = nb_side(order.side);
                    let tif = match order.time_in_force {
                        TimeInForce::Gtc => nanobook::TimeInForce::GTC,
                        TimeInForce::Ioc => nanobook::TimeInForce::IOC,
                        TimeInForce::Fok => nanobook::TimeInForce::FOK,
                    };
                    match order.kind {
                        OrderKind::Limit { price } => NbCommand::Limit(
                            side,
                            nanobook::Price(price_i64(price.0)),
                            order.quantity.0,
                            tif,
                        ),
                        OrderKind::Market { quote_cap: None } => {
                            NbCommand::Market(side, order.quantity.0)
                        }
                        OrderKind::Market { .. } => return Err(Unsupported("quote cap".into())),
                    }
                }
                Action::Cancel { order_id, .. } => {
                    let nb = ids
                        .to_nb
                        .get(NbIds::index(order_id.0))
                        .copied()
                        .unwrap_or(0);
                    NbCommand::Cancel(nanobook::OrderId(nb))
                }
                Action::Reduce { .. } => return Err(Unsupported("reduce".into())),
                Action::CancelAll { .. } => return Err(Unsupported("cancel all".into())),
            };
            out.push(translated);
        }
        Ok(out)
    };
    let prefill = convert(&workload.prefill)?;
    let stream = convert(&workload.stream)?;
    Ok((prefill, stream, ids))
}

/// Applies nanobook calls; returns the lots filled (so the work is observable).
#[inline(never)]
pub fn run_nanobook(exchange: &mut nanobook::Exchange, commands: &[NbCommand]) -> u64 {
    let mut filled = 0;
    for command in commands {
        filled += apply_nanobook(exchange, command).map_or(0, |r| r.filled_quantity);
    }
    filled
}

fn apply_nanobook(
    exchange: &mut nanobook::Exchange,
    command: &NbCommand,
) -> Option<nanobook::SubmitResult> {
    match *command {
        NbCommand::Limit(side, price, quantity, tif) => {
            Some(exchange.submit_limit(side, price, quantity, tif))
        }
        NbCommand::Market(side, quantity) => Some(exchange.submit_market(side, quantity)),
        NbCommand::Cancel(id) => {
            nanobook_cancel(exchange, id);
            None
        }
    }
}

/// Cancels through nanobook's public book API (`PriceLevels::remove_order`, O(orders in the
/// level)) instead of `Exchange::cancel`: in 0.19.3 the latter tombstones the queue entry at the
/// index the order had when it was inserted, which is stale once the level's front has been
/// consumed, so it marks the wrong entry (or none) and a later sweep of a level holding only
/// tombstones spins forever. The agreement check (`tests/peers.rs`) found this.
fn nanobook_cancel(exchange: &mut nanobook::Exchange, id: nanobook::OrderId) {
    let book = exchange.book_mut();
    let Some(order) = book.get_order_mut(id) else {
        return;
    };
    if !order.is_active() {
        return;
    }
    let (side, price) = (order.side, order.price);
    let remaining = order.cancel();
    book.side_mut(side).remove_order(price, id, remaining);
}

/// The trades nanobook prints for the commands, in order, with our ids.
pub fn nanobook_prints(
    exchange: &mut nanobook::Exchange,
    commands: &[NbCommand],
    ids: &NbIds,
) -> Vec<Print> {
    let mut prints = Vec::new();
    for command in commands {
        let Some(result) = apply_nanobook(exchange, command) else {
            continue;
        };
        for trade in &result.trades {
            prints.push(Print {
                price: u64::try_from(trade.price.0).unwrap_or(0),
                quantity: trade.quantity,
                maker: ids.ours(trade.passive_order_id.0),
                taker: ids.ours(trade.aggressor_order_id.0),
            });
        }
    }
    prints
}

/// The prefill and stream as matchcore commands (sequence numbers continue across both).
pub fn to_matchcore(
    workload: &Workload,
) -> Result<(Vec<matchcore::Command>, Vec<matchcore::Command>), Unsupported> {
    let convert = |commands: &[Command]| -> Result<Vec<matchcore::Command>, Unsupported> {
        let mut out = Vec::with_capacity(commands.len());
        for command in commands {
            let kind = match command.action {
                Action::Place(order) => {
                    let side = mc_side(order.side);
                    let new = match (order.kind, order.time_in_force) {
                        (OrderKind::Limit { price }, tif) => {
                            let tif = match tif {
                                TimeInForce::Gtc => matchcore::TimeInForce::Gtc,
                                TimeInForce::Ioc => matchcore::TimeInForce::Ioc,
                                TimeInForce::Fok => matchcore::TimeInForce::Fok,
                            };
                            matchcore::NewOrder::Limit(matchcore::LimitOrder::new(
                                matchcore::Price(price.0),
                                matchcore::QuantityPolicy::Standard {
                                    quantity: matchcore::Quantity(order.quantity.0),
                                },
                                matchcore::OrderFlags::new(side, false, tif),
                            ))
                        }
                        (OrderKind::Market { quote_cap: None }, TimeInForce::Ioc) => {
                            matchcore::NewOrder::Market(matchcore::MarketOrder::new(
                                matchcore::Quantity(order.quantity.0),
                                side,
                                false,
                            ))
                        }
                        _ => return Err(Unsupported("market order other than IOC".into())),
                    };
                    matchcore::CommandKind::Submit(matchcore::SubmitCmd { order: new })
                }
                Action::Cancel { order_id, .. } => {
                    matchcore::CommandKind::Cancel(matchcore::CancelCmd {
                        // matchcore's id of an order is its submit's sequence number = ours - 1.
                        order_id: matchcore::OrderId(order_id.0 - 1),
                        order_kind: matchcore::OrderKind::Limit,
                    })
                }
                Action::Reduce { .. } => return Err(Unsupported("reduce".into())),
                Action::CancelAll { .. } => return Err(Unsupported("cancel all".into())),
            };
            out.push(matchcore::Command {
                meta: matchcore::CommandMeta {
                    sequence_number: matchcore::SequenceNumber(command.sequence),
                    timestamp: matchcore::Timestamp(command.timestamp_ns),
                },
                kind,
            });
        }
        Ok(out)
    };
    Ok((convert(&workload.prefill)?, convert(&workload.stream)?))
}

/// A matchcore book with the prefill applied.
pub fn matchcore_book(prefill: &[matchcore::Command]) -> matchcore::OrderBook {
    let mut book = matchcore::OrderBook::new("BENCH");
    for command in prefill {
        std::hint::black_box(book.execute(command));
    }
    book
}

/// Applies matchcore commands; returns how many were applied (not rejected).
#[inline(never)]
pub fn run_matchcore(book: &mut matchcore::OrderBook, commands: &[matchcore::Command]) -> usize {
    let mut applied = 0;
    for command in commands {
        if matches!(book.execute(command), matchcore::CommandOutcome::Applied(_)) {
            applied += 1;
        }
    }
    applied
}

/// The trades matchcore prints for the commands, in order, with our ids.
pub fn matchcore_prints(
    book: &mut matchcore::OrderBook,
    commands: &[matchcore::Command],
) -> Vec<Print> {
    let mut prints = Vec::new();
    for command in commands {
        let outcome = book.execute(command);
        let matchcore::CommandOutcome::Applied(matchcore::CommandReport::Submit(effects)) = outcome
        else {
            continue;
        };
        let taker = effects.target_order().order_id().0 + 1;
        if let Some(result) = effects.target_order().match_result() {
            for trade in result.trades() {
                prints.push(Print {
                    price: trade.price().0,
                    quantity: trade.quantity().0,
                    maker: trade.maker_order_id().0 + 1,
                    taker,
                });
            }
        }
    }
    prints
}

/// Our trades for the stream (after the prefill), in order.
pub fn our_prints(workload: &Workload) -> Vec<Print> {
    let mut engine = workload.prefilled_engine();
    let mut out = Vec::new();
    let mut prints = Vec::new();
    for command in &workload.stream {
        out.clear();
        engine.apply(command, &mut out);
        for event in &out {
            if let matching::Event::Trade(trade) = event {
                prints.push(Print {
                    price: trade.price.0,
                    quantity: trade.quantity.0,
                    maker: trade.maker_order_id.0,
                    taker: trade.taker_order_id.0,
                });
            }
        }
    }
    prints
}
