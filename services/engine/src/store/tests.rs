//! The store on its own: what a write leaves after a reopen, how long log entries are kept, and
//! what survives a journal snapshot and a torn tail.

use std::path::{Path, PathBuf};

use contracts::{OrderType, PlaceOrder, SelfTrade, ShardCommand, Side, TimeInForce};

use super::{Batch, ShardStore};
use crate::state::{LoggedCommand, ShardState};

type Entries = Vec<(LoggedCommand, contracts::ShardOutcome)>;

fn sell(order_ref: u64) -> ShardCommand {
    ShardCommand::Place(PlaceOrder {
        order_ref,
        user_id: 1,
        stock_id: 2,
        side: Side::Sell,
        order_type: OrderType::Limit {
            price_cents: 1_000 + order_ref,
        },
        quantity: 10,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        self_trade: SelfTrade::Skip,
    })
}

/// Runs places with `order_refs` on `state`.
fn placed(state: &mut ShardState, order_refs: &[u64]) -> Entries {
    order_refs
        .iter()
        .map(|order_ref| state.process(sell(*order_ref), 7))
        .collect()
}

fn open(path: &Path) -> ShardStore {
    ShardStore::open(path).unwrap_or_else(|e| panic!("open: {e:#}"))
}

fn write(store: &mut ShardStore, batch: &Batch<'_>) {
    store
        .write(batch)
        .unwrap_or_else(|e| panic!("write: {e:#}"));
}

fn plain(entries: &Entries, settled: u64) -> Batch<'_> {
    Batch {
        entries,
        state_hash: None,
        settled,
        snapshot: None,
        compact: false,
    }
}

fn kept(store: &ShardStore) -> Vec<u64> {
    store.outcomes_after(0).iter().map(|o| o.sequence).collect()
}

/// The journal files in `dir` whose names end with `suffix`.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

#[test]
fn a_write_is_recovered_after_reopen() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let mut state = ShardState::new(0);
    let entries = placed(&mut state, &[11, 12, 13]);
    let hash = (3, state.state_hash());
    {
        let mut store = open(&path);
        let batch = Batch {
            state_hash: Some(hash),
            ..plain(&entries, 1)
        };
        write(&mut store, &batch);
    }
    let store = open(&path);
    let persisted = store.load().unwrap_or_else(|e| panic!("load: {e:#}"));
    assert!(persisted.snapshot.is_none());
    assert_eq!(
        persisted.log.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(persisted.state_hash, Some(hash));
    assert_eq!(store.settled_through(), 1);
    assert_eq!(store.sequence_of(12), Some(2));
    assert_eq!(store.sequence_of(14), None);
    assert_eq!(store.outcome_at(3), entries.get(2).map(|(_, o)| o.clone()));
    assert_eq!(kept(&store), vec![1, 2, 3]);
}

#[test]
fn an_entry_is_kept_until_both_the_books_snapshot_and_the_settled_watermark_pass_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let mut state = ShardState::new(0);
    let mut store = open(&path);
    let first = placed(&mut state, &[1, 2, 3, 4]);
    let books = state.snapshot();
    let batch = Batch {
        snapshot: Some(&books),
        ..plain(&first, 0)
    };
    write(&mut store, &batch);
    assert_eq!(kept(&store), vec![1, 2, 3, 4], "nothing is settled yet");
    let second = placed(&mut state, &[5]);
    write(&mut store, &plain(&second, 2));
    assert_eq!(kept(&store), vec![3, 4, 5], "settled through 2, books at 4");
    assert_eq!(store.outcome_at(2), None);
    let third = placed(&mut state, &[6]);
    write(&mut store, &plain(&third, 6));
    assert_eq!(kept(&store), vec![5, 6], "settled through 6, books at 4");
    drop(store);
    let store = open(&path);
    assert_eq!(kept(&store), vec![5, 6]);
    let persisted = store.load().unwrap_or_else(|e| panic!("load: {e:#}"));
    assert_eq!(persisted.snapshot.map(|s| s.sequence), Some(4));
    assert_eq!(
        persisted.log.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        vec![5, 6]
    );
    assert_eq!(store.sequence_of(1), Some(1), "refs are never pruned");
}

#[test]
fn refs_and_the_kept_log_survive_a_journal_snapshot() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let mut state = ShardState::new(0);
    let mut store = open(&path);
    let first = placed(&mut state, &[21, 22, 23]);
    write(&mut store, &plain(&first, 0));
    let second = placed(&mut state, &[24]);
    let books = state.snapshot();
    let hash = (4, state.state_hash());
    let batch = Batch {
        entries: &second,
        state_hash: Some(hash),
        settled: 2,
        snapshot: Some(&books),
        compact: true,
    };
    write(&mut store, &batch);
    // Once the snapshot, written in the background, is on disk: generation 1, the records
    // before it gone.
    store.wait_for_snapshots();
    let snapshots = files(dir.path(), ".snapshot");
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    assert!(snapshots[0].ends_with("shard-0-0000000001.snapshot"));
    assert_eq!(files(dir.path(), ".journal").len(), 1);
    let third = placed(&mut state, &[25]);
    write(&mut store, &plain(&third, 2));
    drop(store);
    let store = open(&path);
    for (order_ref, sequence) in [(21, 1), (22, 2), (23, 3), (24, 4), (25, 5)] {
        assert_eq!(store.sequence_of(order_ref), Some(sequence));
    }
    assert_eq!(kept(&store), vec![3, 4, 5], "settled through 2");
    assert_eq!(store.settled_through(), 2);
    let persisted = store.load().unwrap_or_else(|e| panic!("load: {e:#}"));
    assert_eq!(persisted.state_hash, Some(hash));
    assert_eq!(persisted.snapshot.map(|s| s.sequence), Some(4));
    assert_eq!(
        persisted.log.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        vec![5]
    );
}

#[test]
fn a_torn_tail_is_cut_and_the_store_goes_on_from_before_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("shard-0");
    let mut state = ShardState::new(0);
    let first = placed(&mut state, &[31]);
    let second = placed(&mut state, &[32]);
    {
        let mut store = open(&path);
        write(&mut store, &plain(&first, 0));
        write(&mut store, &plain(&second, 0));
    }
    let journals = files(dir.path(), ".journal");
    let journal = journals.first().unwrap_or_else(|| panic!("no journal"));
    // The journal is prefilled with zeros past its records: cutting at the last non-zero byte
    // cuts into the second record (its header's length alone is not zero).
    let bytes = std::fs::read(journal).unwrap_or_else(|e| panic!("{e}"));
    let last_written = bytes.iter().rposition(|b| *b != 0).unwrap_or(0);
    std::fs::OpenOptions::new()
        .write(true)
        .open(journal)
        .and_then(|file| file.set_len(u64::try_from(last_written).unwrap_or(0)))
        .unwrap_or_else(|e| panic!("tear: {e}"));
    let mut store = open(&path);
    assert_eq!(kept(&store), vec![1], "the torn second record is cut");
    assert_eq!(store.sequence_of(32), None);
    // The shard goes on from sequence 1: its next command is sequence 2 again.
    let mut state = ShardState::new(0);
    let _ = placed(&mut state, &[31]);
    let again = placed(&mut state, &[33]);
    write(&mut store, &plain(&again, 0));
    drop(store);
    let store = open(&path);
    assert_eq!(kept(&store), vec![1, 2]);
    assert_eq!(store.sequence_of(33), Some(2));
    assert_eq!(store.sequence_of(32), None);
}

#[test]
fn a_shard_file_of_the_redb_version_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    std::fs::write(dir.path().join("shard-0.redb"), b"old").unwrap_or_else(|e| panic!("{e}"));
    let refused = ShardStore::open(&dir.path().join("shard-0")).err();
    let message = refused.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("earlier version with redb"), "{message}");
}
