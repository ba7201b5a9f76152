use std::io::Write;

use super::*;

fn open(dir: &Path) -> (Journal, Recovered) {
    Journal::open(dir, "test").unwrap_or_else(|e| panic!("open: {e}"))
}

fn records(recovered: &Recovered) -> Vec<String> {
    recovered
        .records
        .iter()
        .map(|r| decode::<String>(r).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn append_all(journal: &Journal, values: &[&str]) -> Ticket {
    let mut last = 0;
    for value in values {
        last = journal
            .append(*value)
            .unwrap_or_else(|e| panic!("append: {e}"));
    }
    last
}

/// Appends `values` and waits until they are on disk.
fn append_durably(journal: &Journal, values: &[&str]) {
    let last = append_all(journal, values);
    journal.wait_durable(last).unwrap_or_else(|e| panic!("{e}"));
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{e}"))
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn durable_records_are_recovered_in_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, recovered) = open(dir.path());
    assert!(recovered.snapshot.is_none() && recovered.records.is_empty());
    let last = append_all(&journal, &["a", "b", "c"]);
    assert_eq!(last, 3, "tickets count records");
    journal
        .durable(last)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    drop(journal);
    let (_journal, recovered) = open(dir.path());
    assert_eq!(records(&recovered), ["a", "b", "c"]);
}

/// Many callers append and wait at once, across several of the writer's rounds: each is woken
/// once its own record is on disk, and every record is there after a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_waiters_each_resolve_once_their_record_is_durable() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = open(dir.path());
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..64 {
        let journal = journal.clone();
        callers.spawn(async move {
            for round in 0..20 {
                let ticket = journal
                    .append(&format!("{caller}-{round}"))
                    .unwrap_or_else(|e| panic!("append: {e}"));
                journal
                    .durable(ticket)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let durable_through = journal.shared.lock().progress.durable_through;
                assert!(
                    durable_through >= ticket,
                    "woken before {ticket} was durable"
                );
            }
        });
    }
    while let Some(done) = callers.join_next().await {
        done.unwrap_or_else(|e| panic!("caller: {e}"));
    }
    assert!(
        journal.shared.lock().waiters.is_empty(),
        "no waiter left behind"
    );
    drop(journal);
    let (_journal, recovered) = open(dir.path());
    let mut got = records(&recovered);
    got.sort();
    let mut want: Vec<String> = (0..64)
        .flat_map(|c| (0..20).map(move |r| format!("{c}-{r}")))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_snapshot_replaces_the_records_before_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = open(dir.path());
    append_all(&journal, &["a", "b"]);
    journal
        .snapshot("state after b")
        .unwrap_or_else(|e| panic!("{e}"));
    append_durably(&journal, &["c"]);
    journal.wait_for_snapshots();
    drop(journal);
    assert_eq!(
        file_names(dir.path()),
        ["test-0000000001.journal", "test-0000000001.snapshot"]
    );
    let (journal, recovered) = open(dir.path());
    let snapshot = recovered.snapshot.as_deref().map(decode::<String>);
    assert_eq!(
        snapshot.and_then(Result::ok).as_deref(),
        Some("state after b")
    );
    assert_eq!(records(&recovered), ["c"]);
    // The next generation starts from the recovered one.
    journal
        .snapshot("state after c")
        .unwrap_or_else(|e| panic!("{e}"));
    append_durably(&journal, &["d"]);
    journal.wait_for_snapshots();
    drop(journal);
    let (_journal, recovered) = open(dir.path());
    assert_eq!(records(&recovered), ["d"]);
    assert_eq!(
        file_names(dir.path()),
        ["test-0000000002.journal", "test-0000000002.snapshot"]
    );
}

#[test]
fn a_torn_tail_is_cut_and_appending_goes_on_after_the_last_whole_record() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = open(dir.path());
    append_durably(&journal, &["a", "b"]);
    drop(journal);
    let path = dir.path().join("test-0000000000.journal");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{e}"));
    file.write_all(&[9, 0, 0, 0, 1, 2])
        .unwrap_or_else(|e| panic!("{e}"));
    drop(file);
    let (journal, recovered) = open(dir.path());
    assert_eq!(records(&recovered), ["a", "b"]);
    append_durably(&journal, &["c"]);
    drop(journal);
    let (_journal, recovered) = open(dir.path());
    assert_eq!(records(&recovered), ["a", "b", "c"]);
}

#[test]
fn a_damaged_snapshot_is_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = open(dir.path());
    journal.snapshot("state").unwrap_or_else(|e| panic!("{e}"));
    append_durably(&journal, &["a"]);
    journal.wait_for_snapshots();
    drop(journal);
    let path = dir.path().join("test-0000000001.snapshot");
    let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let last_byte = bytes.len() - 1;
    bytes[last_byte] ^= 0xff;
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let error = Journal::open(dir.path(), "test")
        .err()
        .map(|e| e.to_string());
    assert!(error.is_some_and(|e| e.contains("damaged")));
}

#[test]
fn small_journals_ask_for_no_snapshot() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = open(dir.path());
    append_all(&journal, &["a"; 100]);
    assert!(!journal.wants_snapshot());
}

#[test]
fn another_journals_files_are_left_alone() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let theirs = [
        "test1-0000000003.tmp",
        "test1-0000000000.journal",
        "other.tmp",
    ];
    for name in theirs {
        std::fs::write(dir.path().join(name), b"x").unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(dir.path().join("test-0000000009.tmp"), b"x").unwrap_or_else(|e| panic!("{e}"));
    let (_journal, _) = open(dir.path());
    let names = file_names(dir.path());
    assert!(
        theirs.iter().all(|name| names.iter().any(|n| n == name)),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "test-0000000009.tmp"),
        "its own leftover is removed"
    );
}

#[test]
fn an_inline_journal_writes_on_the_waiting_thread_and_recovers_like_the_other() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = Journal::open_inline(dir.path(), "test").unwrap_or_else(|e| panic!("{e}"));
    let first = append_all(&journal, &["a", "b"]);
    journal
        .wait_durable(first)
        .unwrap_or_else(|e| panic!("{e}"));
    journal
        .snapshot("state after b")
        .unwrap_or_else(|e| panic!("{e}"));
    append_durably(&journal, &["c"]);
    journal.wait_for_snapshots();
    drop(journal);
    let (_journal, recovered) = open(dir.path());
    let snapshot = recovered.snapshot.as_deref().map(decode::<String>);
    assert_eq!(
        snapshot.and_then(Result::ok).as_deref(),
        Some("state after b")
    );
    assert_eq!(records(&recovered), ["c"]);
}

#[test]
fn an_inline_journal_unwaited_has_written_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = Journal::open_inline(dir.path(), "test").unwrap_or_else(|e| panic!("{e}"));
    append_all(&journal, &["a"]);
    assert_eq!(
        journal.shared.lock().progress.durable_through,
        0,
        "nothing written yet"
    );
    let ticket = append_all(&journal, &["b"]);
    journal
        .wait_durable(ticket)
        .unwrap_or_else(|e| panic!("{e}"));
    drop(journal);
    let (_journal, recovered) = open(dir.path());
    assert_eq!(
        records(&recovered),
        ["a", "b"],
        "a wait writes everything queued before it"
    );
}

/// A snapshot whose encoding waits until the test opens the gate: it stands for a big state
/// still being encoded and written in the background.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        changed.notify_all();
    }
}

impl Serialize for Gate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (open, changed) = &*self.0;
        let mut is_open = open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*is_open {
            is_open = changed
                .wait(is_open)
                .unwrap_or_else(PoisonError::into_inner);
        }
        serializer.serialize_str("state after b")
    }
}

/// Records after a snapshot are durable while it is still being encoded; a restart meanwhile
/// recovers every record from the journals before it; once the snapshot is on disk it replaces
/// them (even with the restarted journal already appending).
#[test]
fn records_do_not_wait_for_a_snapshot_and_a_restart_before_it_is_written_loses_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (journal, _) = open(dir.path());
    append_all(&journal, &["a", "b"]);
    let gate = Gate::default();
    journal
        .snapshot(gate.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!journal.wants_snapshot(), "one snapshot at a time");
    append_durably(&journal, &["c"]);
    assert_eq!(
        file_names(dir.path()),
        ["test-0000000000.journal", "test-0000000001.journal"],
        "c is durable in the next journal, the snapshot not written"
    );
    let (restarted, recovered) = open(dir.path());
    assert!(recovered.snapshot.is_none());
    assert_eq!(records(&recovered), ["a", "b", "c"]);
    append_durably(&restarted, &["d"]);
    gate.open();
    journal.wait_for_snapshots();
    drop(journal);
    drop(restarted);
    assert_eq!(
        file_names(dir.path()),
        ["test-0000000001.journal", "test-0000000001.snapshot"]
    );
    let (_journal, recovered) = open(dir.path());
    let snapshot = recovered.snapshot.as_deref().map(decode::<String>);
    assert_eq!(
        snapshot.and_then(Result::ok).as_deref(),
        Some("state after b")
    );
    assert_eq!(records(&recovered), ["c", "d"]);
}

#[test]
fn journals_with_a_gap_between_them_are_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for name in ["test-0000000000.journal", "test-0000000002.journal"] {
        std::fs::write(dir.path().join(name), b"").unwrap_or_else(|e| panic!("{e}"));
    }
    let error = Journal::open(dir.path(), "test")
        .err()
        .map(|e| e.to_string());
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("not consecutive")),
        "{error:?}"
    );
}
