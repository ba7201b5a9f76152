//! One stock's order book: resting limit orders in price-time priority, waiting stops, and the
//! counters that make its output deterministic.

mod fok;
mod ladder;
mod manage;
mod snapshot;
mod stops;
mod taker;
mod view;

use crate::command::{Action, Command};
use crate::event::Event;
use crate::types::{OrderId, Price, StockId};

use ladder::Ladder;
use stops::{Stops, WaitingStop};

pub use snapshot::{BookSnapshot, RestingSnapshot, StopSnapshot};
pub use view::{DepthLevel, OrderState, OrderView};

/// The book of one stock. The single writer is whoever owns it; every change goes through
/// [`OrderBook::apply`].
#[derive(Debug, Clone)]
pub struct OrderBook {
    stock_id: StockId,
    ladder: Ladder,
    stops: Stops,
    /// The highest order id accepted; new ids must be above it.
    last_order_id: Option<OrderId>,
    trade_sequence: u64,
    last_trade_price: Option<Price>,
    /// Reused queue of stops released by a price move (kept to avoid allocating per command).
    triggered: Vec<WaitingStop>,
}

/// An invariant of the book does not hold: always a bug in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

impl std::fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order book invariant violated: {}", self.0)
    }
}

impl std::error::Error for InvariantViolation {}

/// The stamp of the command being applied, carried to the events it causes.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    sequence: u64,
    timestamp_ns: u64,
}

impl OrderBook {
    /// An empty book.
    pub fn new(stock_id: StockId) -> Self {
        Self {
            stock_id,
            ladder: Ladder::default(),
            stops: Stops::default(),
            last_order_id: None,
            trade_sequence: 0,
            last_trade_price: None,
            triggered: Vec::new(),
        }
    }

    /// The stock this book trades.
    pub fn stock_id(&self) -> StockId {
        self.stock_id
    }

    /// Applies one command, appending what happened to `out`. A command for another stock is
    /// ignored (the engine routes; a book trusts its router).
    pub fn apply(&mut self, command: &Command, out: &mut Vec<Event>) {
        if command.stock_id != self.stock_id {
            return;
        }
        let stamp = Stamp {
            sequence: command.sequence,
            timestamp_ns: command.timestamp_ns,
        };
        match command.action {
            Action::Place(order) => self.place(stamp, order, out),
            Action::Cancel { order_id, user_id } => self.cancel(order_id, user_id, out),
            Action::Reduce {
                order_id,
                user_id,
                by,
            } => self.reduce(order_id, user_id, by, out),
            Action::CancelAll { user_id } => self.cancel_all(user_id, out),
        }
    }

    /// The price of the last trade, which stops trigger on.
    pub fn last_trade_price(&self) -> Option<Price> {
        self.last_trade_price
    }

    /// How many trades this book has printed (the last trade's sequence).
    pub fn trade_sequence(&self) -> u64 {
        self.trade_sequence
    }

    /// Checks every invariant of the crate docs; `Err` is always a bug.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.ladder.check().map_err(InvariantViolation)?;
        self.stops.check().map_err(InvariantViolation)?;
        if let (Some(bid), Some(ask)) = (self.best_bid(), self.best_ask())
            && bid.price >= ask.price
        {
            return Err(InvariantViolation(format!(
                "crossed: bid {:?} >= ask {:?}",
                bid.price, ask.price
            )));
        }
        Ok(())
    }
}
