//! The distributed portfolio store (MongoDB) behind [`PortfolioStore`], with the embedded
//! store's semantics: the same refusals, escrow rules, record rules, ids and list order.
//!
//! Every write is one multi-document transaction (snapshot reads, write concern majority,
//! retried on transient errors and write conflicts, see [`txn`]): a reservation, a deposit, a
//! settlement batch together with its shards' watermarks, an orphan release. Unlike the
//! embedded store, a reservation is always durable before it is answered (the embedded store
//! may answer from a volatile commit). Ids come from counters incremented outside the
//! transactions (unique and increasing, with gaps where a transaction was retried or refused
//! after taking one); lists are ordered by a creation sequence taken the same way.
//!
//! Layout: [`collections`] (documents and indexes), [`codec`] (documents <-> records, checked
//! integers), `reserve` (setup and escrow), `working_set` (settlement: the documents a
//! batch touches, on which the shared rules of `domain::settlement` run), `queries` (reads).

pub mod codec;
pub mod collections;
mod queries;
mod reserve;
#[cfg(test)]
mod tests;
pub mod txn;
mod working_set;

use std::collections::HashSet;
use std::sync::RwLock;

use async_trait::async_trait;
use contracts::ShardOutcome;
use mongodb::bson::doc;
use mongodb::{Client, ClientSession};

use crate::domain::ports::{
    Decision, Escrow, EscrowRequest, Holding, PendingOrder, PortfolioStore,
};
use crate::domain::records::{StockTx, WalletTx};
use crate::domain::settlement::{self, Touched};
use collections::Collections;
use working_set::WorkingSet;

/// Reservation attempts when a concurrent request with the same client order id won the race
/// (the next attempt answers with that request's order).
const RESERVE_ATTEMPTS: usize = 3;

/// The portfolio in MongoDB.
pub struct MongoPortfolio {
    cols: Collections,
    /// Stocks known to exist: stocks are never deleted, so a positive answer stays true and the
    /// hot reservation path skips the lookup. A set for point lookups only.
    known_stocks: RwLock<HashSet<u64>>,
}

impl MongoPortfolio {
    /// Connects to `url` (e.g. `mongodb://127.0.0.1:27017/?directConnection=true`), uses
    /// database `db_name`, and creates the indexes (idempotent).
    pub async fn connect(url: &str, db_name: &str) -> anyhow::Result<Self> {
        let client = Client::with_uri_str(url).await?;
        Self::open(client, db_name).await
    }

    /// Uses database `db_name` of `client` and creates the indexes (idempotent).
    pub async fn open(client: Client, db_name: &str) -> anyhow::Result<Self> {
        let cols = Collections::new(client, db_name);
        cols.create_indexes().await?;
        Ok(Self {
            cols,
            known_stocks: RwLock::new(HashSet::new()),
        })
    }

    fn stock_known(&self, stock_id: u64) -> bool {
        self.known_stocks
            .read()
            .is_ok_and(|known| known.contains(&stock_id))
    }

    fn remember_stock(&self, stock_id: u64) {
        if let Ok(mut known) = self.known_stocks.write() {
            known.insert(stock_id);
        }
    }
}

/// Context of a settlement transaction.
struct Settle {
    cols: Collections,
    outcomes: Vec<ShardOutcome>,
}

async fn settle_in(session: &mut ClientSession, c: &Settle) -> Decision<()> {
    let mut needs = Touched::by(&c.outcomes);
    let mut working_set = WorkingSet::default();
    working_set.load_orders(&c.cols, session, &needs).await?;
    working_set.add_reservation_owners(&mut needs);
    working_set.load_balances(&c.cols, session, &needs).await?;
    settlement::apply_all(&mut working_set, &c.outcomes)?;
    working_set.flush(&c.cols, session).await?;
    Ok(Ok(()))
}

async fn release_orphans_in(session: &mut ClientSession, cols: &Collections) -> Decision<usize> {
    let mut cursor = cols
        .reservations
        .find(doc! { "pending": true })
        .projection(doc! { "_id": 1 })
        .session(&mut *session)
        .await?;
    let mut needs = Touched::default();
    while cursor.advance(session).await? {
        let document = mongodb::bson::Document::try_from(cursor.current())?;
        needs.refs.insert(codec::uint(&document, "_id")?);
    }
    let mut working_set = WorkingSet::default();
    working_set.load_orders(cols, session, &needs).await?;
    working_set.add_reservation_owners(&mut needs);
    working_set.load_balances(cols, session, &needs).await?;
    let orphans = working_set.pending_reservations();
    for order_ref in &orphans {
        settlement::release(&mut working_set, *order_ref)?;
    }
    working_set.flush(cols, session).await?;
    Ok(Ok(orphans.len()))
}

/// The outcome of a transaction that never refuses.
fn never_refused<T>(decision: Decision<T>) -> anyhow::Result<T> {
    decision?.map_err(|refusal| anyhow::anyhow!("unexpected refusal: {}", refusal.0))
}

#[async_trait]
impl PortfolioStore for MongoPortfolio {
    async fn create_stock(&self, name: String) -> Decision<u64> {
        let context = reserve::NewStock {
            cols: self.cols.clone(),
            name,
        };
        let created = txn::run(&self.cols, &context, |s, c| {
            Box::pin(reserve::create_stock(s, c))
        })
        .await?;
        if let Ok(stock_id) = created {
            self.remember_stock(stock_id);
        }
        Ok(created)
    }

    async fn add_shares(&self, user_id: u64, stock_id: u64, quantity: u64) -> Decision<()> {
        let context = reserve::Credit {
            cols: self.cols.clone(),
            user_id,
            stock_id,
            amount: quantity,
        };
        txn::run(&self.cols, &context, |s, c| {
            Box::pin(reserve::add_shares(s, c))
        })
        .await
    }

    async fn deposit(&self, user_id: u64, amount_cents: u64) -> Decision<()> {
        let context = reserve::Credit {
            cols: self.cols.clone(),
            user_id,
            stock_id: 0,
            amount: amount_cents,
        };
        txn::run(&self.cols, &context, |s, c| {
            Box::pin(reserve::deposit(s, c))
        })
        .await
    }

    async fn reserve(&self, request: EscrowRequest) -> Decision<Escrow> {
        let context = reserve::Reserve {
            cols: self.cols.clone(),
            request,
            stock_known: self.stock_known(request.stock_id),
        };
        let mut attempt = 1;
        loop {
            let result = txn::run(&self.cols, &context, |s, c| {
                Box::pin(reserve::reserve(s, c))
            })
            .await;
            match result {
                Err(error)
                    if attempt < RESERVE_ATTEMPTS
                        && request.client_order_id.is_some()
                        && txn::is_duplicate_key(&error) =>
                {
                    attempt += 1;
                }
                Ok(Ok(escrow)) => {
                    self.remember_stock(request.stock_id);
                    return Ok(Ok(escrow));
                }
                other => return other,
            }
        }
    }

    async fn settle(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let context = Settle {
            cols: self.cols.clone(),
            outcomes,
        };
        never_refused(txn::run(&self.cols, &context, |s, c| Box::pin(settle_in(s, c))).await)
    }

    async fn release_orphans(&self) -> anyhow::Result<usize> {
        never_refused(
            txn::run(&self.cols, &self.cols, |s, c| {
                Box::pin(release_orphans_in(s, c))
            })
            .await,
        )
    }

    async fn pending_reservations(
        &self,
        older_than: std::time::SystemTime,
        limit: usize,
    ) -> anyhow::Result<Vec<PendingOrder>> {
        let older_than_ns = super::epoch_ns(older_than).min(codec::INT64_MAX);
        queries::pending_reservations(&self.cols, older_than_ns, limit).await
    }

    async fn applied_through(&self, shard: u32) -> anyhow::Result<u64> {
        queries::applied_through(&self.cols, shard).await
    }

    async fn balance(&self, user_id: u64) -> anyhow::Result<u64> {
        queries::balance(&self.cols, user_id).await
    }

    async fn holdings(&self, user_id: u64) -> anyhow::Result<Vec<Holding>> {
        queries::holdings(&self.cols, user_id).await
    }

    async fn stocks(&self) -> anyhow::Result<Vec<(u64, String)>> {
        queries::stocks(&self.cols).await
    }

    async fn stock_exists(&self, stock_id: u64) -> anyhow::Result<bool> {
        if self.stock_known(stock_id) {
            return Ok(true);
        }
        let exists = queries::stock_exists(&self.cols, stock_id).await?;
        if exists {
            self.remember_stock(stock_id);
        }
        Ok(exists)
    }

    async fn has_reservation(&self, order_ref: u64) -> anyhow::Result<bool> {
        queries::has_reservation(&self.cols, order_ref).await
    }

    async fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        queries::stock_tx(&self.cols, stock_tx_id).await
    }

    async fn stock_txs(&self, user_id: u64) -> anyhow::Result<Vec<StockTx>> {
        queries::stock_txs(&self.cols, user_id).await
    }

    async fn wallet_txs(&self, user_id: u64) -> anyhow::Result<Vec<WalletTx>> {
        queries::wallet_txs(&self.cols, user_id).await
    }
}
