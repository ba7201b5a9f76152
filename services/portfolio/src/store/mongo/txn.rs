//! Multi-document transactions with retry, id counters, and bulk writes inside a transaction.
//!
//! A transaction reads a snapshot and writes with write concern majority; two transactions that
//! write the same document conflict and the later one is retried from the start (the server
//! labels the error `TransientTransactionError`), so a read-check-write inside one never loses
//! an update. A commit whose result is unknown is retried as a commit. Retries stop after
//! `RETRY_FOR`; the error is then returned (an outage, a 500).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{
    Error, ErrorKind, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT, WriteFailure,
};
use mongodb::options::{ReadConcern, ReturnDocument, TransactionOptions, WriteConcern};

use super::collections::Collections;
use crate::domain::ports::Decision;

/// How long conflicting transactions are retried.
const RETRY_FOR: Duration = Duration::from_secs(30);
/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(20);
/// The server's code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;
/// The server's code for a write conflict (retryable even if a server forgot the label).
const WRITE_CONFLICT: i32 = 112;
/// Attempts of a counter increment (only the first upserts of a counter can race).
const COUNTER_ATTEMPTS: usize = 3;
/// Statements per bulk write command.
const BULK_CHUNK: usize = 1000;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The body of a transaction: may run several times, so it only reads its context.
pub type Body<C, T> = for<'s> fn(&'s mut ClientSession, &'s C) -> BoxFuture<'s, Decision<T>>;

fn options() -> TransactionOptions {
    TransactionOptions::builder()
        .read_concern(ReadConcern::snapshot())
        .write_concern(WriteConcern::majority())
        .build()
}

fn mongo_error(error: &anyhow::Error) -> Option<&Error> {
    error.chain().find_map(|e| e.downcast_ref::<Error>())
}

fn has_code(error: &Error, code: i32) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Command(e) => e.code == code,
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == code,
        _ => false,
    }
}

/// True for errors a new attempt may not meet: transient transaction errors and conflicts.
fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.is::<WriteConflict>())
        || mongo_error(error).is_some_and(|e| {
            e.contains_label(TRANSIENT_TRANSACTION_ERROR) || has_code(e, WRITE_CONFLICT)
        })
}

/// True for a unique index violation.
pub fn is_duplicate_key(error: &anyhow::Error) -> bool {
    mongo_error(error).is_some_and(|e| has_code(e, DUPLICATE_KEY))
}

enum Commit {
    Done,
    RetryAll,
}

/// Runs `body` in a transaction until it commits, refuses (aborted: nothing written), fails
/// for good, or `RETRY_FOR` runs out.
pub async fn run<C: Sync, T: Send>(
    cols: &Collections,
    context: &C,
    body: Body<C, T>,
) -> Decision<T> {
    let deadline = Instant::now() + RETRY_FOR;
    let mut session = cols.client.start_session().await?;
    let mut backoff = Duration::from_millis(1);
    loop {
        session.start_transaction().with_options(options()).await?;
        let result = body(&mut session, context).await;
        let value = match result {
            Ok(Ok(value)) => value,
            Ok(Err(refusal)) => {
                abort(&mut session).await;
                return Ok(Err(refusal));
            }
            Err(error) => {
                abort(&mut session).await;
                if is_transient(&error) && Instant::now() < deadline {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
                return Err(error);
            }
        };
        match commit(&mut session, deadline).await? {
            Commit::Done => return Ok(Ok(value)),
            Commit::RetryAll => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn abort(session: &mut ClientSession) {
    if let Err(error) = session.abort_transaction().await {
        // The server may have aborted it already; the transaction wrote nothing either way.
        tracing::debug!(?error, "abort transaction");
    }
}

async fn commit(session: &mut ClientSession, deadline: Instant) -> anyhow::Result<Commit> {
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(Commit::Done),
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            Err(e) if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) => {}
            Err(e) if e.contains_label(TRANSIENT_TRANSACTION_ERROR) => return Ok(Commit::RetryAll),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Takes `count` values of counter `name` (outside any transaction: a counter read and
/// written inside transactions would make every two concurrent ones conflict). Returns the
/// first; the values are `first..first + count`, never handed out again. The first value of a
/// counter is 1.
pub async fn take_ids(cols: &Collections, name: &str, count: u64) -> anyhow::Result<u64> {
    let increment = super::codec::int(count)?;
    let mut attempt = 1;
    let counter = loop {
        let result = cols
            .counters
            .find_one_and_update(doc! { "_id": name }, doc! { "$inc": { "last": increment } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
            .map_err(anyhow::Error::from);
        match result {
            Ok(Some(counter)) => break counter,
            // Two first upserts of a counter race: one inserts, the other fails on the key (or,
            // on SecantusDB, returns nothing). The counter exists now; increment it again.
            Ok(None) if attempt < COUNTER_ATTEMPTS => {}
            Err(error) if attempt < COUNTER_ATTEMPTS && is_duplicate_key(&error) => {}
            Ok(None) => anyhow::bail!("counter {name}: the upsert returned nothing"),
            Err(error) => return Err(error),
        }
        attempt += 1;
    };
    let last = super::codec::uint(&counter, "last")?;
    last.checked_sub(count)
        .map(|before| before + 1)
        .ok_or_else(|| anyhow::anyhow!("counter {name} is below its own increment"))
}

/// Makes counter `name` hand out only values above `used` from now on.
pub async fn bump(cols: &Collections, name: &str, used: u64) -> anyhow::Result<()> {
    cols.counters
        .update_one(
            doc! { "_id": name },
            doc! { "$max": { "last": super::codec::int(used)? } },
        )
        .upsert(true)
        .await?;
    Ok(())
}

/// Runs a write command (`update`, `delete`, `insert`) in the transaction of `session`, in
/// chunks (none when there are no statements), and turns write errors in the reply into an
/// error (the transaction then aborts).
async fn write_command(
    cols: &Collections,
    session: &mut ClientSession,
    command: &str,
    collection: &str,
    field: &str,
    statements: Vec<Document>,
) -> anyhow::Result<()> {
    for chunk in statements.chunks(BULK_CHUNK) {
        let list: Vec<Bson> = chunk.iter().cloned().map(Bson::Document).collect();
        let reply = cols
            .database
            .run_command(doc! { command: collection, field: list, "ordered": true })
            .session(&mut *session)
            .await?;
        if let Ok(errors) = reply.get_array("writeErrors")
            && let Some(first) = errors.first()
        {
            let code = first
                .as_document()
                .and_then(|e| e.get_i32("code").ok())
                .unwrap_or_default();
            let message = format!("{command} {collection}: {first}");
            if code == WRITE_CONFLICT {
                return Err(WriteConflict(message).into());
            }
            anyhow::bail!(message);
        }
    }
    Ok(())
}

/// A write conflict reported inside a bulk command's reply (retried like the server's).
#[derive(Debug)]
struct WriteConflict(String);

impl std::fmt::Display for WriteConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "write conflict: {}", self.0)
    }
}

impl std::error::Error for WriteConflict {}

/// The writes of one bulk command.
pub enum Bulk {
    /// Replaces (or inserts) each document, by its `_id`.
    Replace(Vec<Document>),
    /// Deletes the documents with these ids.
    Delete(Vec<Bson>),
    /// Inserts each document (a duplicate key fails the transaction).
    Insert(Vec<Document>),
}

/// Runs `writes` on `collection` in the transaction of `session` (nothing when empty).
pub async fn write_all(
    cols: &Collections,
    session: &mut ClientSession,
    collection: &str,
    writes: Bulk,
) -> anyhow::Result<()> {
    let (command, field, statements) = match writes {
        Bulk::Replace(documents) => {
            let mut statements = Vec::with_capacity(documents.len());
            for document in documents {
                let id = document
                    .get("_id")
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("a replacement without _id"))?;
                statements.push(doc! { "q": { "_id": id }, "u": document, "upsert": true });
            }
            ("update", "updates", statements)
        }
        Bulk::Delete(ids) => {
            let statements = ids
                .into_iter()
                .map(|id| doc! { "q": { "_id": id }, "limit": 1 })
                .collect();
            ("delete", "deletes", statements)
        }
        Bulk::Insert(documents) => ("insert", "documents", documents),
    };
    write_command(cols, session, command, collection, field, statements).await
}
