//! The settle batch plan: the run after the watermark is applied, copies are only answered,
//! outcomes after a gap are handed back.

use contracts::{CancelOrder, CommandResult, ShardCommand, ShardOutcome};
use lapin::message::Delivery;

use super::settle::{Received, plan};

fn received(sequence: u64) -> Received {
    let outcome = ShardOutcome {
        version: contracts::CONTRACT_VERSION,
        shard: 0,
        sequence,
        timestamp_ns: 0,
        command: ShardCommand::Cancel(CancelOrder {
            order_ref: 1,
            user_id: 1,
            stock_id: 0,
        }),
        result: CommandResult::Accepted,
        fills: Vec::new(),
        ended: Vec::new(),
    };
    Received {
        acker: Delivery::mock(sequence, "".into(), "".into(), false, Vec::new()).acker,
        reply_to: None,
        correlation_id: None,
        outcome,
    }
}

fn sequences(items: &[Received]) -> Vec<u64> {
    items.iter().map(|r| r.outcome.sequence).collect()
}

#[test]
fn the_run_after_the_watermark_is_applied_in_order_and_copies_only_answered() {
    let batch = [7, 5, 6, 6, 4, 9].map(received).into_iter().collect();
    let plan = plan(4, batch);
    assert_eq!(
        plan.apply.iter().map(|o| o.sequence).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert_eq!(sequences(&plan.done), vec![4, 5, 6, 6, 7]);
    assert_eq!(sequences(&plan.requeue), vec![9]);
}

#[test]
fn nothing_is_applied_across_a_gap() {
    let plan = plan(1, [3, 4].map(received).into_iter().collect());
    assert!(plan.apply.is_empty() && plan.done.is_empty());
    assert_eq!(sequences(&plan.requeue), vec![3, 4]);
}
