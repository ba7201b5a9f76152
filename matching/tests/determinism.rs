//! Determinism: the same seeded command stream gives the same events and state hash; a
//! snapshot taken anywhere, restored and fed the rest of the stream, ends identically.

use matching::{
    Action, Command, Engine, Event, NewOrder, Notional, OrderId, OrderKind, Price, Quantity,
    SelfTradePrevention, Side, StockId, TimeInForce, UserId, shard_of,
};

/// SplitMix64: a tiny seeded generator, so the stream depends only on the seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A mixed stream over three stocks: limits, IOC/FOK, capped markets, stops, cancels, reduces.
fn stream(seed: u64, length: usize) -> Vec<Command> {
    let mut rng = SplitMix(seed);
    let mut next_id = 0u64;
    let mut placed: Vec<(StockId, OrderId, UserId)> = Vec::new();
    (0..length)
        .map(|sequence| {
            let roll = rng.below(100);
            let (stock_id, action) = if roll < 75 || placed.is_empty() {
                next_id += 1;
                let stock_id = StockId(rng.below(3));
                let user_id = UserId(rng.below(6));
                let side = if rng.below(2) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let market = rng.below(10) == 0;
                let kind = if market {
                    let cap = (side == Side::Buy && rng.below(2) == 0)
                        .then(|| Notional(u128::from(rng.below(5_000) + 1)));
                    OrderKind::Market { quote_cap: cap }
                } else {
                    OrderKind::Limit {
                        price: Price(990 + rng.below(21)),
                    }
                };
                let time_in_force = match (market, rng.below(10)) {
                    (true, 0..=6) | (false, 7..=8) => TimeInForce::Ioc,
                    (_, 9) => TimeInForce::Fok,
                    (true, _) => TimeInForce::Fok,
                    (false, _) => TimeInForce::Gtc,
                };
                let self_trade = match rng.below(5) {
                    0 => SelfTradePrevention::CancelNewest,
                    1 => SelfTradePrevention::CancelOldest,
                    2 => SelfTradePrevention::Decrement,
                    _ => SelfTradePrevention::Skip,
                };
                let stop_price = (rng.below(20) == 0).then(|| Price(990 + rng.below(21)));
                let order_id = OrderId(next_id);
                placed.push((stock_id, order_id, user_id));
                let order = NewOrder {
                    order_id,
                    user_id,
                    side,
                    kind,
                    quantity: Quantity(rng.below(50) + 1),
                    time_in_force,
                    post_only: false,
                    self_trade,
                    stop_price,
                };
                (stock_id, Action::Place(order))
            } else {
                let index = usize::try_from(rng.below(placed.len() as u64)).unwrap_or(0);
                let (stock_id, order_id, user_id) = placed[index];
                if roll < 95 {
                    (stock_id, Action::Cancel { order_id, user_id })
                } else {
                    (
                        stock_id,
                        Action::Reduce {
                            order_id,
                            user_id,
                            by: Quantity(rng.below(5) + 1),
                        },
                    )
                }
            };
            Command {
                stock_id,
                sequence: sequence as u64,
                timestamp_ns: 1_700_000_000_000_000_000 + sequence as u64,
                action,
            }
        })
        .collect()
}

fn run(engine: &mut Engine, commands: &[Command]) -> Vec<Event> {
    let mut events = Vec::new();
    for command in commands {
        engine.apply(command, &mut events);
        for book in engine.books() {
            if let Err(violation) = book.check_invariants() {
                panic!("{violation} after {command:?}");
            }
        }
    }
    events
}

#[test]
fn the_same_seeded_stream_twice_gives_identical_events_and_hash() {
    let commands = stream(42, 20_000);
    let (mut first, mut second) = (Engine::new(), Engine::new());
    let first_events = run(&mut first, &commands);
    let second_events = run(&mut second, &commands);
    assert!(
        first_events
            .iter()
            .filter(|e| matches!(e, Event::Trade(_)))
            .count()
            > 1_000,
        "the stream should trade a lot"
    );
    assert_eq!(first_events, second_events);
    assert_eq!(first.state_hash(), second.state_hash());
    assert_ne!(first.state_hash(), Engine::new().state_hash());
}

#[test]
fn a_different_stream_gives_a_different_hash() {
    let (mut a, mut b) = (Engine::new(), Engine::new());
    run(&mut a, &stream(1, 3_000));
    run(&mut b, &stream(2, 3_000));
    assert_ne!(a.state_hash(), b.state_hash());
}

#[test]
fn snapshot_at_random_points_restore_and_replay_ends_identically() {
    for seed in [7u64, 8, 9, 10] {
        let commands = stream(seed, 6_000);
        let cut = usize::try_from(SplitMix(seed).below(commands.len() as u64)).unwrap_or(0);
        let mut original = Engine::new();
        run(&mut original, &commands[..cut]);
        let snapshot = original.snapshot();
        let mut restored = Engine::restore(&snapshot);
        assert_eq!(
            restored.state_hash(),
            original.state_hash(),
            "seed {seed}: hash right after restore"
        );
        assert_eq!(
            restored.snapshot(),
            snapshot,
            "seed {seed}: snapshot of the restored engine"
        );
        let tail_original = run(&mut original, &commands[cut..]);
        let tail_restored = run(&mut restored, &commands[cut..]);
        assert_eq!(
            tail_restored, tail_original,
            "seed {seed}: events after restore"
        );
        assert_eq!(
            restored.state_hash(),
            original.state_hash(),
            "seed {seed}: final hash"
        );
    }
}

#[test]
fn shard_of_is_stock_id_modulo_shard_count() {
    assert_eq!(shard_of(StockId(0), 2), 0);
    assert_eq!(shard_of(StockId(7), 2), 1);
    assert_eq!(shard_of(StockId(10), 4), 2);
    assert_eq!(
        shard_of(StockId(u64::MAX), 3),
        u32::try_from(u64::MAX % 3).unwrap_or(9)
    );
    assert_eq!(
        shard_of(StockId(5), 0),
        0,
        "a zero shard count is one shard"
    );
}

#[test]
fn engine_routes_by_stock_and_rejects_cancels_for_books_it_never_saw() {
    let mut engine = Engine::new();
    let mut events = Vec::new();
    let place = |stock: u64, id: u64, side: Side| Command {
        stock_id: StockId(stock),
        sequence: id,
        timestamp_ns: id,
        action: Action::Place(NewOrder {
            order_id: OrderId(id),
            user_id: UserId(id),
            side,
            kind: OrderKind::Limit { price: Price(100) },
            quantity: Quantity(5),
            time_in_force: TimeInForce::Gtc,
            post_only: false,
            self_trade: SelfTradePrevention::Skip,
            stop_price: None,
        }),
    };
    engine.apply(&place(1, 1, Side::Sell), &mut events);
    engine.apply(&place(2, 2, Side::Buy), &mut events);
    assert!(
        !events.iter().any(|e| matches!(e, Event::Trade(_))),
        "different stocks never match"
    );
    assert_eq!(
        engine
            .book(StockId(1))
            .and_then(|b| b.best_ask())
            .map(|l| l.quantity),
        Some(Quantity(5))
    );
    assert_eq!(
        engine
            .book(StockId(2))
            .and_then(|b| b.best_bid())
            .map(|l| l.quantity),
        Some(Quantity(5))
    );
    events.clear();
    let cancel = Command {
        stock_id: StockId(3),
        sequence: 3,
        timestamp_ns: 3,
        action: Action::Cancel {
            order_id: OrderId(1),
            user_id: UserId(1),
        },
    };
    engine.apply(&cancel, &mut events);
    assert!(matches!(
        events.as_slice(),
        [Event::Rejected {
            reason: matching::RejectReason::UnknownOrder,
            ..
        }]
    ));
    assert!(
        engine.book(StockId(3)).is_none(),
        "a cancel creates no book"
    );
}
