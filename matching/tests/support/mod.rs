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

/// Runs a scenario table: each line is `command => expected events` or `book => ladder`.
/// After every command the book's invariants and the depth replay are checked.
pub fn run_scenario(table: &str) -> OrderBook {
    let mut book = OrderBook::new(script::STOCK);
    let mut depth = DepthReplay::default();
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
    }
    book
}
