//! Group commit over a redb database: one writer thread drains a batch of jobs, runs them all in
//! one write transaction, commits once (durably) and only then answers every job.
//!
//! A job may be volatile ([`GroupCommitter::run_volatile`]): it is answered after a commit that
//! is not fsync'd, and becomes durable with the next durable commit of the same database (redb
//! commits are ordered). A drained batch is split: its volatile jobs are committed (and
//! answered) first, then its durable jobs in one fsync'd commit.
//!
//! A job must not panic and must leave the transaction untouched when it refuses its request
//! (check first, then write): jobs of one batch share the transaction. If the commit fails, every
//! job of the batch gets [`CommitError`] and nothing of the batch is applied.

use std::sync::Arc;

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

/// Jobs queued at most (back-pressure beyond that).
const QUEUE_DEPTH: usize = 4096;
/// Jobs committed together at most.
const MAX_BATCH: usize = 1024;

type Reply = Box<dyn FnOnce() + Send>;
type Work = Box<dyn FnOnce(&WriteTransaction) -> Reply + Send>;

struct Job {
    durable: bool,
    work: Work,
}

/// The store could not commit (or its writer is gone): an outage, not the client's fault.
#[derive(Debug, thiserror::Error)]
#[error("the store could not commit the change")]
pub struct CommitError;

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
            .spawn(move || write_loop(&writer_db, receiver))?;
        Ok(Self { jobs, database })
    }

    /// The database, for read transactions (they see only committed data).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Runs `job` in the next batch; resolves with its result once the batch is durable.
    pub async fn run<R, F>(&self, job: F) -> Result<R, CommitError>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> R + Send + 'static,
    {
        self.submit(true, job).await
    }

    /// Runs `job` in the next batch; resolves once the batch is committed, durable or not.
    /// Only for changes that recovery can rebuild if they are lost (see the module docs).
    pub async fn run_volatile<R, F>(&self, job: F) -> Result<R, CommitError>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> R + Send + 'static,
    {
        self.submit(false, job).await
    }

    async fn submit<R, F>(&self, durable: bool, job: F) -> Result<R, CommitError>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> R + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let work: Work = Box::new(move |txn| {
            let result = job(txn);
            Box::new(move || {
                let _ = sender.send(result);
            })
        });
        self.jobs
            .send(Job { durable, work })
            .await
            .map_err(|_| CommitError)?;
        receiver.await.map_err(|_| CommitError)
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
    let replies: Vec<Reply> = batch.into_iter().map(|job| (job.work)(&txn)).collect();
    match txn.commit() {
        Ok(()) => replies.into_iter().for_each(|reply| reply()),
        Err(error) => tracing::error!(%error, "group commit failed; the batch is refused"),
    }
}
