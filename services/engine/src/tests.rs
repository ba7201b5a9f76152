//! Shard tests: live processing, durable batches, recovery by snapshot + replay.

use std::sync::Arc;

use contracts::{
    CancelOrder, CommandResult, OrderType, PlaceOrder, SelfTrade, ShardCommand, Side, TimeInForce,
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
    let path = dir.path().join("shard-0.redb");
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
    let unsettled = reopened.unsettled(2).unwrap_or_default();
    assert_eq!(
        unsettled.iter().map(|o| o.sequence).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
}

#[test]
fn a_shard_whose_rebuilt_books_do_not_match_the_checkpoint_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0.redb");
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
        };
        shard
            .store
            .write(&batch)
            .unwrap_or_else(|e| panic!("write: {e}"));
    }
    let reopened = recovery::open(0, &path, clock);
    assert!(reopened.is_err_and(|e| e.to_string().contains("hash")));
}
