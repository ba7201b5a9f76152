//! Property test: random command streams (several users, both sides, every order type and
//! option, cancels, reduces, cancel-all, stale and reused ids) run on the real book and on the
//! naive reference matcher; after every step their events (all but `LevelChanged`), their depth
//! and every live order must agree, and the real book's invariants must hold.

mod support;

use matching::{
    Action, Command, Event, NewOrder, Notional, OrderBook, OrderId, OrderKind, Price, Quantity,
    SelfTradePrevention, Side, TimeInForce, UserId,
};
use proptest::prelude::*;
use support::reference::RefBook;
use support::{DepthReplay, OrderReplay, script::STOCK};

/// One generated step, before ids are assigned.
#[derive(Debug, Clone)]
enum Step {
    Place {
        user: u64,
        side: Side,
        kind: GenKind,
        quantity: u64,
        tif: TimeInForce,
        post_only: bool,
        stp: SelfTradePrevention,
        stop: Option<u64>,
        reuse_id: bool,
    },
    Cancel {
        pick: usize,
        user: Option<u64>,
    },
    Reduce {
        pick: usize,
        by: u64,
    },
    CancelAll {
        user: u64,
    },
}

#[derive(Debug, Clone)]
enum GenKind {
    Limit(u64),
    Market(Option<u64>),
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn stp() -> impl Strategy<Value = SelfTradePrevention> {
    prop_oneof![
        4 => Just(SelfTradePrevention::Skip),
        1 => Just(SelfTradePrevention::CancelNewest),
        1 => Just(SelfTradePrevention::CancelOldest),
        1 => Just(SelfTradePrevention::CancelBoth),
        1 => Just(SelfTradePrevention::Decrement),
    ]
}

fn tif() -> impl Strategy<Value = TimeInForce> {
    prop_oneof![6 => Just(TimeInForce::Gtc), 2 => Just(TimeInForce::Ioc), 2 => Just(TimeInForce::Fok)]
}

fn kind() -> impl Strategy<Value = GenKind> {
    prop_oneof![
        8 => (95u64..=105).prop_map(GenKind::Limit),
        2 => proptest::option::of(1u64..2_000).prop_map(GenKind::Market),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let place = (
        1u64..=4,
        side(),
        kind(),
        0u64..=12,
        tif(),
        proptest::bool::weighted(0.1),
        stp(),
        proptest::option::weighted(0.08, 96u64..=104),
        proptest::bool::weighted(0.03),
    )
        .prop_map(
            |(user, side, kind, quantity, tif, post_only, stp, stop, reuse_id)| Step::Place {
                user,
                side,
                kind,
                quantity,
                tif,
                post_only,
                stp,
                stop,
                reuse_id,
            },
        );
    prop_oneof![
        14 => place,
        3 => (any::<usize>(), proptest::option::weighted(0.2, 1u64..=4)).prop_map(|(pick, user)| Step::Cancel { pick, user }),
        1 => (any::<usize>(), 0u64..=6).prop_map(|(pick, by)| Step::Reduce { pick, by }),
        1 => (1u64..=4).prop_map(|user| Step::CancelAll { user }),
    ]
}

/// Turns steps into commands: fresh increasing ids (or a reused one), and cancel/reduce targets
/// picked among ids placed so far (live or not, so stale cancels happen).
fn commands(steps: &[Step]) -> Vec<Command> {
    let mut placed: Vec<(OrderId, UserId)> = Vec::new();
    let mut next_id = 1u64;
    let mut out = Vec::new();
    for (sequence, step) in steps.iter().enumerate() {
        let action = match step {
            Step::Place {
                user,
                side,
                kind,
                quantity,
                tif,
                post_only,
                stp,
                stop,
                reuse_id,
            } => {
                let order_id = match placed.last() {
                    Some((last, _)) if *reuse_id => *last,
                    _ => {
                        next_id += 1;
                        OrderId(next_id)
                    }
                };
                let kind = match kind {
                    GenKind::Limit(price) => OrderKind::Limit {
                        price: Price(*price),
                    },
                    GenKind::Market(cap) => OrderKind::Market {
                        quote_cap: cap
                            .filter(|_| *side == Side::Buy)
                            .map(|c| Notional(u128::from(c))),
                    },
                };
                let time_in_force = match (kind, tif) {
                    (OrderKind::Market { .. }, TimeInForce::Gtc) if sequence % 7 != 0 => {
                        TimeInForce::Ioc
                    }
                    _ => *tif,
                };
                placed.push((order_id, UserId(*user)));
                Action::Place(NewOrder {
                    order_id,
                    user_id: UserId(*user),
                    side: *side,
                    kind,
                    quantity: Quantity(*quantity),
                    time_in_force,
                    post_only: *post_only,
                    self_trade: *stp,
                    stop_price: stop.map(Price),
                })
            }
            Step::Cancel { pick, user } => match placed.get(pick % placed.len().max(1)) {
                Some((id, owner)) => Action::Cancel {
                    order_id: *id,
                    user_id: user.map_or(*owner, UserId),
                },
                None => Action::CancelAll { user_id: UserId(1) },
            },
            Step::Reduce { pick, by } => match placed.get(pick % placed.len().max(1)) {
                Some((id, owner)) => Action::Reduce {
                    order_id: *id,
                    user_id: *owner,
                    by: Quantity(*by),
                },
                None => Action::CancelAll { user_id: UserId(1) },
            },
            Step::CancelAll { user } => Action::CancelAll {
                user_id: UserId(*user),
            },
        };
        out.push(Command {
            stock_id: STOCK,
            sequence: sequence as u64,
            timestamp_ns: 10 * sequence as u64,
            action,
        });
    }
    out
}

fn without_level_changes(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| !matches!(e, Event::LevelChanged { .. }))
        .copied()
        .collect()
}

fn compare_after_every_step(commands: &[Command]) -> Result<(), TestCaseError> {
    let mut book = OrderBook::new(STOCK);
    let mut reference = RefBook::new(STOCK);
    let mut depth = DepthReplay::default();
    let mut replayed = OrderReplay::default();
    let mut events = Vec::new();
    for (step, command) in commands.iter().enumerate() {
        events.clear();
        book.apply(command, &mut events);
        let expected = reference.apply(command);
        prop_assert_eq!(
            without_level_changes(&events),
            expected,
            "events at step {}: {:?}",
            step,
            command
        );
        if let Err(violation) = book.check_invariants() {
            return Err(TestCaseError::fail(format!("step {step}: {violation}")));
        }
        for side in [Side::Buy, Side::Sell] {
            let ours: Vec<(u64, u64, u32)> = book
                .depth(side, usize::MAX)
                .iter()
                .map(|l| (l.price.0, l.quantity.0, l.orders))
                .collect();
            prop_assert_eq!(ours, reference.depth(side), "depth at step {}", step);
        }
        let mut live: Vec<_> = book.orders().collect();
        live.sort_by_key(|o| o.order_id);
        prop_assert_eq!(live, reference.live(), "live orders at step {}", step);
        depth.apply(&events);
        depth.assert_matches(&book, &format!("step {step}"));
        replayed.apply(&events);
        replayed.assert_matches(&book, &format!("step {step}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn book_agrees_with_the_naive_reference_after_every_step(steps in proptest::collection::vec(step(), 1..120)) {
        compare_after_every_step(&commands(&steps))?;
    }
}
