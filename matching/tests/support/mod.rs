//! Shared test support: the scenario language, rendering, and the checks run after every command.
#![allow(
    dead_code,
    reason = "each test file uses a different part of the support module"
)]

pub mod reference;
pub mod render;
pub mod script;

use std::collections::BTreeMap;

use matching::{Action, Event, OrderBook, Price, Side};

/// Depth rebuilt from `LevelChanged` events alone; must always equal the book's own depth.
#[derive(Debug, Default)]
pub struct DepthReplay {
    levels: BTreeMap<(u8, Price), u64>,
}

impl DepthReplay {
    pub fn apply(&mut self, events: &[Event]) {
        for event in events {
            if let Event::LevelChanged {
                side,
                price,
                quantity,
                ..
            } = event
            {
                let key = (side_key(*side), *price);
                if quantity.0 == 0 {
                    self.levels.remove(&key);
                } else {
                    self.levels.insert(key, quantity.0);
                }
            }
        }
    }

    pub fn assert_matches(&self, book: &OrderBook, context: &str) {
        let mut expected = BTreeMap::new();
        for side in [Side::Buy, Side::Sell] {
            for level in book.depth(side, usize::MAX) {
                expected.insert((side_key(side), level.price), level.quantity.0);
            }
        }
        assert_eq!(
            self.levels, expected,
            "depth from LevelChanged events differs after {context}"
        );
    }
}

fn side_key(side: Side) -> u8 {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// Every live order's (remaining, filled) rebuilt from the events alone; must always equal what
/// the book itself reports.
#[derive(Debug, Default)]
pub struct OrderReplay {
    live: BTreeMap<u64, (u64, u64)>,
}

impl OrderReplay {
    pub fn apply(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::Accepted { order, .. } => {
                    self.live.insert(order.order_id.0, (order.quantity.0, 0));
                }
                Event::Trade(trade) => {
                    for id in [trade.maker_order_id, trade.taker_order_id] {
                        let entry = self
                            .live
                            .get_mut(&id.0)
                            .expect("a trading order was accepted");
                        entry.0 = entry
                            .0
                            .checked_sub(trade.quantity.0)
                            .expect("fills within the remainder");
                        entry.1 += trade.quantity.0;
                    }
                }
                Event::Reduced {
                    order_id,
                    remaining,
                    ..
                } => {
                    self.live
                        .get_mut(&order_id.0)
                        .expect("a reduced order is live")
                        .0 = remaining.0;
                }
                Event::Done { order_id, .. } => {
                    self.live.remove(&order_id.0);
                }
                Event::Rejected { .. } | Event::Triggered { .. } | Event::LevelChanged { .. } => {}
            }
        }
    }

    pub fn assert_matches(&self, book: &OrderBook, context: &str) {
        let actual: BTreeMap<u64, (u64, u64)> = book
            .orders()
            .map(|o| (o.order_id.0, (o.remaining.0, o.filled.0)))
            .collect();
        assert_eq!(
            self.live, actual,
            "live orders from the events differ after {context}"
        );
    }
}

/// Runs a scenario table: each line is `command => expected events` or `book => ladder`.
/// After every command the book's invariants and the depth replay are checked.
pub fn run_scenario(table: &str) -> OrderBook {
    let mut book = OrderBook::new(script::STOCK);
    let mut depth = DepthReplay::default();
    let mut orders = OrderReplay::default();
    let mut events = Vec::new();
    for (number, raw) in table.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (command, expected) = line
            .split_once("=>")
            .unwrap_or_else(|| panic!("line {number}: `command => expected`: {line}"));
        let (command, expected) = (command.trim(), expected.trim());
        if command == "book" {
            assert_eq!(
                render::render_book(&book),
                expected,
                "line {number}: book after `{line}`"
            );
            continue;
        }
        let command = script::parse_command(command, number as u64);
        events.clear();
        book.apply(&command, &mut events);
        let was_place = matches!(command.action, Action::Place(_));
        assert_eq!(
            render::render_events(&events, was_place),
            expected,
            "line {number}: `{line}`"
        );
        if let Err(violation) = book.check_invariants() {
            panic!("line {number}: {violation} after `{line}`");
        }
        depth.apply(&events);
        depth.assert_matches(&book, line);
        orders.apply(&events);
        orders.assert_matches(&book, line);
    }
    book
}
