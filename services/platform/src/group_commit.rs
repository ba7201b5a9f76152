//! Group commit over a redb database: one writer thread drains a batch of jobs, runs them all in
//! one write transaction, commits once (durably) and only then answers every job.
//!
//! A job may be volatile ([`GroupCommitter::run_volatile`]): it is answered after a commit that
//! is not fsync'd, and becomes durable with the next durable commit of the same database (redb
//! commits are ordered). A drained batch is split: its volatile jobs are committed (and
//! answered) first, then its durable jobs in one fsync'd commit.
//!
//! A job must not panic and must leave the transaction untouched when it refuses its request
//! (check first, then write: a refusal is an `Ok` value): jobs of one batch share the
//! transaction. A job that returns `Err` may have written half of its change, so its whole batch
//! is aborted; if the commit fails, likewise. Then every job of the batch gets an error and
//! nothing of the batch is applied.

use std::sync::Arc;

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

/// Jobs queued at most (back-pressure beyond that).
const QUEUE_DEPTH: usize = 4096;
/// Jobs committed together at most.
const MAX_BATCH: usize = 1024;

/// Answers a job; the flag says whether its batch was committed.
type Reply = Box<dyn FnOnce(bool) + Send>;
/// Runs a job; the flag says whether it succeeded (else its batch is aborted).
type Work = Box<dyn FnOnce(&WriteTransaction) -> (bool, Reply) + Send>;

struct Job {
    durable: bool,
    work: Work,
}

/// The store could not commit (its writer is gone, the commit failed, or another job of the
/// batch failed): an outage, not the client's fault.
#[derive(Debug, thiserror::Error)]
#[error("the store could not commit the change")]
pub struct CommitError;

/// A job's answer: its value, or why it or its batch failed.
pub type JobResult<R> = anyhow::Result<R>;

/// A handle to the writer thread of one database.
#[derive(Clone)]
pub struct GroupCommitter {
    jobs: mpsc::Sender<Job>,
    database: Arc<Database>,
}

impl GroupCommitter {
    /// Starts the writer thread of `database`.
    pub fn start(database: Arc<Database>, name: &str) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::channel(QUEUE_DEPTH);
        let writer_db = Arc::clone(&database);
        std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || {
                crate::priority::durable_path();
                write_loop(&writer_db, receiver);
            })?;
        Ok(Self { jobs, database })
    }

    /// The database, for read transactions (they see only committed data).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Runs `job` in the next batch; resolves with its result once the batch is durable.
    pub async fn run<R, F>(&self, job: F) -> JobResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> JobResult<R> + Send + 'static,
    {
        self.submit(true, job).await
    }

    /// Runs `job` in the next batch; resolves once the batch is committed, durable or not.
    /// Only for changes that recovery can rebuild if they are lost (see the module docs).
    pub async fn run_volatile<R, F>(&self, job: F) -> JobResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> JobResult<R> + Send + 'static,
    {
        self.submit(false, job).await
    }

    async fn submit<R, F>(&self, durable: bool, job: F) -> JobResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> JobResult<R> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let work: Work = Box::new(move |txn| {
            let result = job(txn);
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let answer = match result {
                    Ok(_) if !committed => Err(CommitError.into()),
                    other => other,
                };
                let _ = sender.send(answer);
            });
            (succeeded, reply)
        });
        self.jobs
            .send(Job { durable, work })
            .await
            .map_err(|_| CommitError)?;
        receiver.await.map_err(|_| CommitError)?
    }
}

fn write_loop(database: &Database, mut receiver: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = receiver.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Jobs of one batch were all pending at once, so any order is a valid serialization:
        // volatile ones first, answered without waiting for the fsync of the durable ones.
        let (volatile, durable): (Vec<Job>, Vec<Job>) =
            batch.drain(..).partition(|job| !job.durable);
        commit_batch(database, volatile, Durability::None);
        commit_batch(database, durable, Durability::Immediate);
    }
}

fn commit_batch(database: &Database, batch: Vec<Job>, durability: Durability) {
    if batch.is_empty() {
        return;
    }
    let mut txn = match database.begin_write() {
        Ok(txn) => txn,
        Err(error) => {
            tracing::error!(%error, "cannot begin a write transaction");
            return;
        }
    };
    if let Err(error) = txn.set_durability(durability) {
        tracing::error!(%error, "cannot set the durability of a batch");
        return;
    }
    // Returning early drops every job's reply: its caller gets `CommitError`.
    let ran: Vec<(bool, Reply)> = batch.into_iter().map(|job| (job.work)(&txn)).collect();
    let committed = if ran.iter().all(|(succeeded, _)| *succeeded) {
        txn.commit()
            .map_err(|error| tracing::error!(%error, "group commit failed; the batch is refused"))
            .is_ok()
    } else {
        tracing::error!("a job of the batch failed; the batch is aborted");
        if let Err(error) = txn.abort() {
            tracing::error!(%error, "aborting the batch failed");
        }
        false
    };
    ran.into_iter().for_each(|(_, reply)| reply(committed));
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, TableDefinition};

    use super::*;

    const NUMBERS: TableDefinition<u64, u64> = TableDefinition::new("numbers");

    fn committer() -> GroupCommitter {
        let backend = redb::backends::InMemoryBackend::new();
        let database = Database::builder()
            .create_with_backend(backend)
            .unwrap_or_else(|e| panic!("database: {e}"));
        GroupCommitter::start(Arc::new(database), "test").unwrap_or_else(|e| panic!("writer: {e}"))
    }

    fn stored(committer: &GroupCommitter, key: u64) -> Option<u64> {
        let txn = committer.database().begin_read().ok()?;
        let table = txn.open_table(NUMBERS).ok()?;
        table.get(key).ok().flatten().map(|v| v.value())
    }

    #[tokio::test]
    async fn a_failing_job_leaves_nothing_behind_and_later_jobs_commit() {
        let committer = committer();
        let failed: JobResult<()> = committer
            .run(|txn| {
                txn.open_table(NUMBERS)?.insert(1, 10)?;
                anyhow::bail!("failed half way")
            })
            .await;
        assert!(failed.is_err());
        let volatile = committer
            .run_volatile(|txn| Ok(txn.open_table(NUMBERS)?.insert(2, 20)?.is_none()))
            .await;
        assert_eq!(volatile.ok(), Some(true));
        let durable = committer
            .run(|txn| Ok(txn.open_table(NUMBERS)?.insert(3, 30)?.is_none()))
            .await;
        assert_eq!(durable.ok(), Some(true));
        assert_eq!(
            (
                stored(&committer, 1),
                stored(&committer, 2),
                stored(&committer, 3)
            ),
            (None, Some(20), Some(30))
        );
    }
}
