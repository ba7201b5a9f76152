//! `kill -9` of engine shard 0 in the middle of a stream, restart: nothing acknowledged is lost,
//! nothing is settled twice, the invariants hold, the restart checks the books against the
//! persisted state hash, and a SIGTERM stop and restart rebuild the same books (same sequence,
//! same hash).

use std::sync::Arc;
use std::time::{Duration, Instant};

use system_tests::logs::{field, lines_with};
use system_tests::stream::{Market, Stream, StreamOptions, first_served_after};
use system_tests::topology::Topology;

use crate::{STREAM_DEADLINE, new_orders_work, verified};

const ENGINE: &str = "engine-0";
/// Hash checkpoints are persisted every 1,000 commands; the stream passes that before the kill.
const ACKNOWLEDGED_BEFORE_KILL: u64 = 1_050;

#[test]
fn an_engine_shard_killed_mid_stream_loses_nothing_and_rebuilds_identical_books() {
    let mut topology = Topology::start();
    let _logs = topology.logs_on_panic();
    // Two stocks on shard 0 and one on shard 1: most of the stream goes to the shard killed.
    let market = Arc::new(Market::open(&topology.base_url(), 2, 2, [2, 1]));
    let started = Instant::now();
    let stream = Stream::start(&market, StreamOptions::default());
    stream.wait_for(
        "1,050 orders acknowledged on shard 0",
        STREAM_DEADLINE,
        |progress| progress.acknowledged(0) >= ACKNOWLEDGED_BEFORE_KILL,
    );
    println!(
        "{} orders acknowledged in {:?} before the kill",
        stream.progress().acknowledged_total(),
        started.elapsed()
    );
    let log_before_restart = topology.role_log(ENGINE).len();
    topology.kill(ENGINE);
    let sent_at_kill = stream.progress().sent(0);
    stream.wait_for(
        "orders sent to the killed shard",
        STREAM_DEADLINE,
        |progress| progress.sent(0) >= sent_at_kill + 2,
    );
    let restarted_at = Instant::now();
    topology.restart(ENGINE);
    let healthy_after = restarted_at.elapsed();
    let acknowledged_at_restart = stream.progress().acknowledged(0);
    stream.wait_for(
        "200 more orders acknowledged on shard 0 after the restart",
        STREAM_DEADLINE,
        |progress| progress.acknowledged(0) >= acknowledged_at_restart + 200,
    );
    let mut report = stream.stop();
    let (first_any, first_new) = first_served_after(&market, &report, 0, restarted_at);
    println!(
        "MEASURE engine-0 restart after kill -9: healthy (books rebuilt) after {healthy_after:?}, \
         first order served on shard 0 after {first_any:?}, first order sent after the restart \
         served after {first_new:?}"
    );
    verified("engine kill -9", &market, &report);

    let restart_log = topology
        .role_log(ENGINE)
        .get(log_before_restart..)
        .unwrap_or_default()
        .to_owned();
    let rebuilt = lines_with(&restart_log, "shard rebuilt");
    let rebuilt_line = rebuilt
        .first()
        .unwrap_or_else(|| panic!("no 'shard rebuilt' line after the restart:\n{restart_log}"));
    let sequence: u64 = field(rebuilt_line, "sequence")
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("no sequence in {rebuilt_line}"));
    println!("after kill -9: {rebuilt_line}");
    assert!(
        sequence >= 1_000,
        "the shard had passed only {sequence} commands at the kill (no hash checkpoint yet)"
    );
    assert!(
        !lines_with(&restart_log, "rebuilt books match the persisted hash").is_empty(),
        "the restart after the kill did not check the books against the persisted hash:\n{restart_log}"
    );

    stop_and_restart_rebuild_the_same_books(&mut topology);
    report.extend(new_orders_work(&market));
    verified("engine kill -9, then SIGTERM", &market, &report);
}

/// SIGTERM: the last `shard stopped` line's sequence and hash are those of the next
/// `shard rebuilt` line.
fn stop_and_restart_rebuild_the_same_books(topology: &mut Topology) {
    topology.terminate(ENGINE);
    let log = topology.role_log(ENGINE);
    let stopped = lines_with(&log, "shard stopped");
    let stopped_line = stopped
        .last()
        .unwrap_or_else(|| panic!("no 'shard stopped' line after SIGTERM"))
        .clone();
    let restarted_at = Instant::now();
    topology.restart(ENGINE);
    let healthy_after: Duration = restarted_at.elapsed();
    let restart_log = topology
        .role_log(ENGINE)
        .get(log.len()..)
        .unwrap_or_default()
        .to_owned();
    let rebuilt = lines_with(&restart_log, "shard rebuilt");
    let rebuilt_line = rebuilt
        .first()
        .unwrap_or_else(|| panic!("no 'shard rebuilt' line after the restart:\n{restart_log}"));
    println!("SIGTERM: {stopped_line}");
    println!("restart: {rebuilt_line} (healthy after {healthy_after:?})");
    for name in ["sequence", "state_hash"] {
        let before = field(&stopped_line, name);
        assert!(before.is_some(), "no {name} in {stopped_line}");
        assert_eq!(
            before,
            field(rebuilt_line, name),
            "{name}: stopped '{stopped_line}', rebuilt '{rebuilt_line}'"
        );
    }
}
