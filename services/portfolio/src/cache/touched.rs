//! Which users' cached entries a settle batch changes.

use std::collections::BTreeSet;

use contracts::ShardOutcome;

/// Every user whose balance or holdings a batch may change: the owner of each command (its
/// escrow is consumed, rebuilt or released), both sides of each fill, and the owner of each
/// ended order (its escrow is released). Sorted, so the Redis calls are deterministic.
pub(crate) fn users_touched(outcomes: &[ShardOutcome]) -> BTreeSet<u64> {
    let mut users = BTreeSet::new();
    for outcome in outcomes {
        users.insert(outcome.command.user_id());
        for fill in &outcome.fills {
            users.insert(fill.buyer_user);
            users.insert(fill.seller_user);
        }
        users.extend(outcome.ended.iter().map(|end| end.user_id));
    }
    users
}

#[cfg(test)]
mod tests {
    use contracts::{CancelOrder, CommandResult, EndReason, OrderEnded};

    use super::*;
    use contracts::ShardCommand;

    #[test]
    fn a_cancel_touches_its_owner_and_every_ended_orders_owner() {
        let cancel = ShardOutcome {
            version: contracts::CONTRACT_VERSION,
            shard: 0,
            sequence: 1,
            timestamp_ns: 1,
            command: ShardCommand::Cancel(CancelOrder {
                order_ref: 5,
                user_id: 9,
                stock_id: 1,
            }),
            result: CommandResult::Accepted,
            fills: vec![],
            ended: vec![OrderEnded {
                order_ref: 5,
                user_id: 3,
                reason: EndReason::Cancelled,
                filled: 0,
                remaining: 2,
            }],
        };
        assert_eq!(
            users_touched(&[cancel]).into_iter().collect::<Vec<_>>(),
            [3, 9]
        );
    }
}
