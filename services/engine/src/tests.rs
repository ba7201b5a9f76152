//! Shard tests: live processing, durable batches, recovery by snapshot + replay.

use std::sync::Arc;

use contracts::embedded::ShardInput;
use contracts::{
    CancelOrder, CommandResult, EndReason, ExpireOrder, OrderEnded, OrderType, PlaceOrder,
    SelfTrade, ShardCommand, ShardOutcome, Side, TimeInForce,
};
use platform::clock::{Clock, SharedClock};

use crate::recovery;
use crate::state::ShardState;
use crate::store::Batch;

struct FixedClock;
impl Clock for FixedClock {
    fn now_ns(&self) -> u64 {
        1_000
    }
}

fn place(
    order_ref: u64,
    user_id: u64,
    side: Side,
    order_type: OrderType,
    quantity: u64,
) -> ShardCommand {
    let time_in_force = if matches!(order_type, OrderType::Market { .. }) {
        TimeInForce::Fok
    } else {
        TimeInForce::Gtc
    };
    ShardCommand::Place(PlaceOrder {
        order_ref,
        user_id,
        stock_id: 4,
        side,
        order_type,
        quantity,
        time_in_force,
        post_only: false,
        self_trade: SelfTrade::Skip,
    })
}

fn script() -> Vec<ShardCommand> {
    vec![
        place(10, 1, Side::Sell, OrderType::Limit { price_cents: 500 }, 5),
        place(11, 1, Side::Sell, OrderType::Limit { price_cents: 400 }, 5),
        place(
            12,
            2,
            Side::Buy,
            OrderType::Market {
                quote_cap_cents: Some(100_000),
            },
            7,
        ),
        ShardCommand::Cancel(CancelOrder {
            order_ref: 11,
            user_id: 1,
            stock_id: 4,
        }),
        place(
            13,
            2,
            Side::Buy,
            OrderType::Market {
                quote_cap_cents: Some(100),
            },
            1,
        ),
    ]
}

#[test]
fn fills_carry_order_refs_and_cancelled_orders_are_gone() {
    let mut state = ShardState::new(0);
    let outcomes: Vec<_> = script()
        .into_iter()
        .map(|c| state.process(c, 1).1)
        .collect();
    let buy = &outcomes[2];
    assert_eq!(
        buy.fills
            .iter()
            .map(|f| (f.seller_ref, f.price_cents, f.quantity))
            .collect::<Vec<_>>(),
        vec![(11, 400, 5), (10, 500, 2)]
    );
    assert!(
        buy.ended.iter().any(|e| e.order_ref == 11) && buy.ended.iter().any(|e| e.order_ref == 12)
    );
    assert!(
        matches!(outcomes[3].result, CommandResult::Rejected { .. }),
        "11 was filled, not open"
    );
    let killed = &outcomes[4];
    assert!(
        killed.fills.is_empty()
            && killed
                .ended
                .iter()
                .any(|e| e.order_ref == 13 && e.filled == 0)
    );
    assert_eq!(
        outcomes.iter().map(|o| o.sequence).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
}

#[test]
fn a_reopened_shard_has_the_same_books_and_keeps_unsettled_outcomes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let clock: SharedClock = Arc::new(FixedClock);
    let expected_hash = {
        let mut shard =
            recovery::open(0, &path, clock.clone()).unwrap_or_else(|e| panic!("open: {e}"));
        let entries: Vec<_> = script()
            .into_iter()
            .map(|c| shard.state.process(c, 1))
            .collect();
        let (first, rest) = entries.split_at(2);
        let snapshot = shard.state.snapshot();
        let batch = Batch {
            entries: first,
            state_hash: None,
            settled: 0,
            snapshot: None,
            compact: false,
        };
        shard
            .store
            .write(&batch)
            .unwrap_or_else(|e| panic!("write: {e}"));
        let batch = Batch {
            entries: rest,
            state_hash: Some((5, shard.state.state_hash())),
            settled: 1,
            snapshot: Some(&snapshot),
            compact: false,
        };
        shard
            .store
            .write(&batch)
            .unwrap_or_else(|e| panic!("write: {e}"));
        shard.state.state_hash()
    };
    let reopened = recovery::open(0, &path, clock).unwrap_or_else(|e| panic!("reopen: {e}"));
    assert_eq!(reopened.state.state_hash(), expected_hash);
    assert_eq!(reopened.state.sequence(), 5);
    assert_eq!(
        reopened.state.next_order_id(),
        5,
        "four places took core ids 1..=4"
    );
    let unsettled = reopened.unsettled(2);
    assert_eq!(
        unsettled.iter().map(|o| o.sequence).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
}

#[test]
fn a_shard_whose_rebuilt_books_do_not_match_the_checkpoint_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let clock: SharedClock = Arc::new(FixedClock);
    {
        let mut shard =
            recovery::open(0, &path, clock.clone()).unwrap_or_else(|e| panic!("open: {e}"));
        let entries: Vec<_> = script()
            .into_iter()
            .map(|c| shard.state.process(c, 1))
            .collect();
        let wrong = shard.state.state_hash() ^ 1;
        let batch = Batch {
            entries: &entries,
            state_hash: Some((5, wrong)),
            settled: 0,
            snapshot: None,
            compact: false,
        };
        shard
            .store
            .write(&batch)
            .unwrap_or_else(|e| panic!("write: {e}"));
    }
    let reopened = recovery::open(0, &path, clock);
    assert!(reopened.is_err_and(|e| e.to_string().contains("hash")));
}

/// Runs `commands` through a shard thread on `path` as ONE batch (all queued before the thread
/// starts), and returns the outcome each was answered with.
fn run_shard_batch(path: &std::path::Path, commands: &[ShardCommand]) -> Vec<ShardOutcome> {
    let clock: SharedClock = Arc::new(FixedClock);
    let shard = recovery::open(0, path, clock).unwrap_or_else(|e| panic!("open: {e}"));
    let (inputs, input_receiver) = tokio::sync::mpsc::channel(commands.len().max(1));
    let (deliveries, mut delivery_receiver) = tokio::sync::mpsc::channel(commands.len().max(1));
    let (_settled, settled_receiver) = tokio::sync::watch::channel(0);
    for command in commands {
        let (reply, _answer) = tokio::sync::oneshot::channel();
        let input = ShardInput::Command {
            command: *command,
            reply,
        };
        inputs
            .try_send(input)
            .unwrap_or_else(|e| panic!("queue: {e}"));
    }
    drop(inputs);
    let thread = shard
        .spawn(input_receiver, deliveries, settled_receiver)
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut answers = Vec::new();
    while let Some(delivery) = delivery_receiver.blocking_recv() {
        answers.push(delivery.outcome);
    }
    thread
        .join()
        .unwrap_or_else(|_| panic!("shard thread panicked"));
    answers
}

/// Runs `commands` through a shard thread on `path`, one input at a time, and returns the
/// outcome each was answered with.
fn run_shard_thread(path: &std::path::Path, commands: &[ShardCommand]) -> Vec<ShardOutcome> {
    let clock: SharedClock = Arc::new(FixedClock);
    let shard = recovery::open(0, path, clock).unwrap_or_else(|e| panic!("open: {e}"));
    let (inputs, input_receiver) = tokio::sync::mpsc::channel(16);
    let (deliveries, mut delivery_receiver) = tokio::sync::mpsc::channel(16);
    let (_settled, settled_receiver) = tokio::sync::watch::channel(0);
    let thread = shard
        .spawn(input_receiver, deliveries, settled_receiver)
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut answers = Vec::new();
    for command in commands {
        let (reply, _answer) = tokio::sync::oneshot::channel();
        let input = ShardInput::Command {
            command: *command,
            reply,
        };
        inputs
            .blocking_send(input)
            .unwrap_or_else(|e| panic!("send: {e}"));
        let delivery = delivery_receiver
            .blocking_recv()
            .unwrap_or_else(|| panic!("the shard stopped"));
        answers.push(delivery.outcome);
    }
    drop(inputs);
    thread
        .join()
        .unwrap_or_else(|_| panic!("shard thread panicked"));
    answers
}

#[test]
fn a_place_delivered_again_is_answered_with_its_first_outcome_and_never_placed_twice() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let sell = place(10, 1, Side::Sell, OrderType::Limit { price_cents: 500 }, 5);
    let buy = place(11, 2, Side::Buy, OrderType::Limit { price_cents: 500 }, 2);
    let first = run_shard_thread(&path, &[sell, buy, sell, buy]);
    assert_eq!(
        first.iter().map(|o| o.sequence).collect::<Vec<_>>(),
        vec![1, 2, 1, 2]
    );
    assert_eq!(first[2], first[0]);
    assert_eq!(first[3], first[1]);
    assert_eq!(first[1].fills.len(), 1, "the buy traded once");
    // After a restart the refs are still known (they are durable) and the books hold one sell.
    let again = run_shard_thread(&path, &[buy, sell]);
    assert_eq!(again, vec![first[1].clone(), first[0].clone()]);
    let clock: SharedClock = Arc::new(FixedClock);
    let reopened = recovery::open(0, &path, clock).unwrap_or_else(|e| panic!("reopen: {e}"));
    assert_eq!(reopened.sequence(), 2);
    assert_eq!(reopened.settled_through(), 0);
}

#[test]
fn a_trimmed_duplicate_is_recognised_and_carries_its_sequence() {
    let command = place(10, 1, Side::Sell, OrderType::Limit { price_cents: 500 }, 5);
    let marker = crate::domain::translate::trimmed_duplicate(3, 42, command);
    assert!(crate::domain::translate::is_trimmed_duplicate(&marker));
    assert_eq!((marker.shard, marker.sequence), (3, 42));
    let mut state = ShardState::new(0);
    let (_, real) = state.process(command, 1);
    assert!(!crate::domain::translate::is_trimmed_duplicate(&real));
}

fn expire(order_ref: u64, user_id: u64) -> ShardCommand {
    ShardCommand::Expire(ExpireOrder {
        order_ref,
        user_id,
        stock_id: 4,
    })
}

fn is_rejected(outcome: &ShardOutcome) -> bool {
    matches!(&outcome.result, CommandResult::Rejected { reason }
        if reason.starts_with(crate::state::EXPIRE_TOO_LATE))
}

/// The log of the shard at `path` replayed on an empty shard gives the logged outcomes and the
/// same books as the reopened shard; returns the replayed outcomes.
fn replayed_matches_logged(path: &std::path::Path) -> Vec<ShardOutcome> {
    let clock: SharedClock = Arc::new(FixedClock);
    let reopened = recovery::open(0, path, clock).unwrap_or_else(|e| panic!("reopen: {e}"));
    let persisted = reopened
        .store
        .load()
        .unwrap_or_else(|e| panic!("load: {e}"));
    assert!(persisted.snapshot.is_none(), "the whole log is replayed");
    let mut fresh = ShardState::new(0);
    let replayed: Vec<_> = persisted.log.iter().map(|l| fresh.execute(l)).collect();
    assert_eq!(replayed, reopened.unsettled(0));
    assert_eq!(fresh.state_hash(), reopened.state.state_hash());
    replayed
}

#[test]
fn an_expire_of_an_unknown_ref_ends_the_order_and_a_later_place_is_never_placed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let sell = place(20, 1, Side::Sell, OrderType::Limit { price_cents: 500 }, 5);
    let first = run_shard_thread(&path, &[expire(20, 1), sell]);
    let expired = &first[0];
    assert_eq!(
        (expired.sequence, &expired.result),
        (1, &CommandResult::Accepted)
    );
    assert_eq!(
        expired.ended,
        vec![OrderEnded {
            order_ref: 20,
            user_id: 1,
            reason: EndReason::Expired,
            filled: 0,
            remaining: 0,
        }]
    );
    assert!(expired.fills.is_empty());
    assert_eq!(first[1], *expired, "the place gets the expire's outcome");
    // After a restart: the place is still answered so, a second expire is rejected, and a buy
    // that would have crossed the sell finds an empty book.
    let buy = place(21, 2, Side::Buy, OrderType::Limit { price_cents: 500 }, 5);
    let again = run_shard_thread(&path, &[sell, expire(20, 1), buy]);
    assert_eq!(again[0], *expired);
    assert!(is_rejected(&again[1]) && again[1].ended.is_empty());
    assert_eq!(again[1].sequence, 2);
    assert!(
        again[2].fills.is_empty(),
        "nothing was placed: {:?}",
        again[2]
    );
    let replayed = replayed_matches_logged(&path);
    assert_eq!(replayed.len(), 3, "expire, rejected expire, buy");
    assert_eq!(replayed[0], *expired);
}

#[test]
fn an_expire_behind_its_place_is_rejected_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let sell = place(30, 1, Side::Sell, OrderType::Limit { price_cents: 500 }, 5);
    let buy = place(31, 2, Side::Buy, OrderType::Limit { price_cents: 500 }, 2);
    let outcomes = run_shard_thread(&path, &[sell, expire(30, 1), buy]);
    assert_eq!(outcomes[0].result, CommandResult::Accepted);
    assert!(is_rejected(&outcomes[1]), "{:?}", outcomes[1].result);
    assert!(outcomes[1].ended.is_empty() && outcomes[1].fills.is_empty());
    assert_eq!(outcomes[2].fills.len(), 1, "the sell still rests");
    // A filled order's ref is still known: an expire after it ended is rejected too, and the
    // place delivered again is still answered with its own outcome.
    let later = run_shard_thread(&path, &[expire(31, 2), buy]);
    assert!(is_rejected(&later[0]));
    assert_eq!(later[1], outcomes[2]);
    assert_eq!(replayed_matches_logged(&path).len(), 4);
}

#[test]
fn within_one_batch_the_first_of_place_and_expire_wins() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let placed = place(40, 1, Side::Sell, OrderType::Limit { price_cents: 500 }, 5);
    let orphan = place(41, 1, Side::Sell, OrderType::Limit { price_cents: 400 }, 5);
    let batch = [placed, expire(40, 1), expire(41, 1), orphan, expire(41, 1)];
    let outcomes = run_shard_batch(&path, &batch);
    assert_eq!(
        outcomes.iter().map(|o| o.sequence).collect::<Vec<_>>(),
        vec![1, 2, 3, 3, 4],
        "the orphan's place is answered by its expire, not sequenced"
    );
    assert!(is_rejected(&outcomes[1]));
    assert_eq!(outcomes[2].result, CommandResult::Accepted);
    assert_eq!(outcomes[3], outcomes[2]);
    assert!(is_rejected(&outcomes[4]));
    let replayed = replayed_matches_logged(&path);
    assert_eq!(replayed.len(), 4);
    let clock: SharedClock = Arc::new(FixedClock);
    let reopened = recovery::open(0, &path, clock).unwrap_or_else(|e| panic!("reopen: {e}"));
    let asks: Vec<_> = reopened
        .state
        .engine()
        .books()
        .filter_map(|book| book.best_ask().map(|level| level.price.0))
        .collect();
    assert_eq!(asks, vec![500], "only the placed sell rests");
}

#[test]
fn walks_of_the_books_space_out_with_their_depth_so_they_stay_amortized() {
    use crate::shard::walk_interval;
    assert_eq!(walk_interval(1_000, 0), 1_000, "the floor on empty books");
    assert_eq!(
        walk_interval(1_000, 4_095),
        1_000,
        "quick walks keep the floor"
    );
    assert_eq!(walk_interval(1_000, 4_096), 16_384);
    assert_eq!(
        walk_interval(20_000, 4_096),
        20_000,
        "4 x 4,096 is under this floor"
    );
    assert_eq!(walk_interval(20_000, 50_000), 200_000);
    assert_eq!(walk_interval(20_000, usize::MAX), u64::MAX, "saturates");
}
