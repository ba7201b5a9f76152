//! `kill -9` of the order role in the middle of a stream, restart: every acknowledged order is
//! recorded, the invariants hold. An order reserved but not yet published when the process died
//! leaves a pending reservation that only the portfolio role's sweeper releases (after
//! `EXCHANGE_ORPHAN_AFTER`, 2 s here); until then "escrow equals resting orders" fails, so the
//! check polls with a deadline (and fails on exactly that where no sweeper exists).

use std::sync::Arc;
use std::time::Instant;

use system_tests::stream::{Market, SHARDS, Stream, StreamOptions, first_served_after};
use system_tests::topology::Topology;

use crate::{STREAM_DEADLINE, new_orders_work, verified};

const ORDER: &str = "order";

#[test]
fn the_order_role_killed_mid_stream_loses_no_acknowledged_order() {
    let mut topology = Topology::start_with_env(&[("EXCHANGE_ORPHAN_AFTER", "2s")]);
    let _logs = topology.logs_on_panic();
    let market = Arc::new(Market::open(&topology.base_url(), 2, 2, [1, 1]));
    let stream = Stream::start(&market, StreamOptions::default());
    stream.wait_for("200 orders acknowledged", STREAM_DEADLINE, |progress| {
        progress.acknowledged_total() >= 200
    });
    topology.kill(ORDER);
    let failed_at_kill = stream.progress().failed();
    stream.wait_for(
        "requests failing while the order role is down",
        STREAM_DEADLINE,
        |progress| progress.failed() >= failed_at_kill + 4,
    );
    let restarted_at = Instant::now();
    topology.restart(ORDER);
    let healthy_after = restarted_at.elapsed();
    let acknowledged_at_restart = stream.progress().acknowledged_total();
    stream.wait_for(
        "100 more orders acknowledged after the restart",
        STREAM_DEADLINE,
        |progress| progress.acknowledged_total() >= acknowledged_at_restart + 100,
    );
    let mut report = stream.stop();
    let first = (0..SHARDS)
        .filter_map(|shard| first_served_after(&market, &report, shard, restarted_at).1)
        .min();
    println!(
        "MEASURE order role restart after kill -9: healthy after {healthy_after:?}, first new \
         order served through the gateway after {first:?}"
    );
    let lost = report.accept_lost_answers();
    println!("order role kill -9: {lost} requests got no answer (connection closed mid-request)");
    verified("order role kill -9", &market, &report);
    report.extend(new_orders_work(&market));
    verified("order role kill -9, new orders", &market, &report);
}
