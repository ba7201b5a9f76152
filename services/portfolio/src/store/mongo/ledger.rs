//! The documents one settlement (or orphan release) touches, loaded up front inside its
//! transaction, changed in memory by the same rules as the embedded store, and written back in
//! one bulk command per collection.
//!
//! Which documents an outcome touches follows from the outcome itself (its orders' refs and
//! users) and from the reservations of those orders, so loading takes two rounds of `$in`
//! queries, however many outcomes the batch holds. Reading a document that was not loaded is an
//! error (a bug here), never a silent zero.
//!
//! Ids are handed out provisionally during the computation (in ranges no real id reaches) and
//! replaced by real ones at the end, taken in one counter increment per kind; so a batch costs
//! three counter round trips and the ids of one batch are consecutive.

use std::collections::{BTreeMap, BTreeSet};

use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};

use super::super::tables::{Reservation, counter};
use super::codec::{self, StoredWalletTx};
use super::collections::{Collections, name};
use super::txn;
use crate::domain::records::{StockTx, WalletTx};

/// Provisional ids start here; each kind has its own range of 2^60 values.
const PROVISIONAL: u64 = 1 << 62;
const RANGE: u64 = 1 << 60;

/// The kinds of ids a settlement hands out.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    /// Stock transaction ids (children).
    StockTx,
    /// Wallet transaction ids.
    WalletTx,
    /// Creation sequence of records.
    RecordSeq,
}

impl IdKind {
    fn index(self) -> usize {
        match self {
            Self::StockTx => 0,
            Self::WalletTx => 1,
            Self::RecordSeq => 2,
        }
    }
}

const KINDS: [(IdKind, &str); 3] = [
    (IdKind::StockTx, counter::STOCK_TX_ID),
    (IdKind::WalletTx, counter::WALLET_TX_ID),
    (IdKind::RecordSeq, counter::RECORD_SEQ),
];

fn provisional_base(kind: IdKind) -> u64 {
    let offset = match kind {
        IdKind::StockTx => 0,
        IdKind::WalletTx => RANGE,
        IdKind::RecordSeq => 2 * RANGE,
    };
    PROVISIONAL + offset
}

/// A value and whether this job changed it.
#[derive(Debug, Clone)]
struct Slot<T> {
    value: T,
    dirty: bool,
}

impl<T> Slot<T> {
    fn loaded(value: T) -> Self {
        Self {
            value,
            dirty: false,
        }
    }
}

/// What the settlement rules need loaded: order refs, users, (user, stock) pairs, shards.
#[derive(Debug, Default)]
pub struct Needs {
    /// Orders (reservations and stock records).
    pub refs: BTreeSet<u64>,
    /// Wallets.
    pub users: BTreeSet<u64>,
    /// Holdings.
    pub holdings: BTreeSet<(u64, u64)>,
    /// Watermarks.
    pub shards: BTreeSet<u32>,
}

/// The loaded documents and the changes made to them.
#[derive(Debug, Default)]
pub struct Ledger {
    wallets: BTreeMap<u64, Slot<(u64, u64)>>,
    holdings: BTreeMap<(u64, u64), Slot<(u64, u64)>>,
    reservations: BTreeMap<u64, Slot<Option<Reservation>>>,
    stock_txs: BTreeMap<u64, Slot<Option<(StockTx, u64)>>>,
    watermarks: BTreeMap<u32, Slot<u64>>,
    wallet_txs: Vec<StoredWalletTx>,
    issued: [u64; 3],
    stock_tx_floor: Option<u64>,
}

fn ints(values: impl IntoIterator<Item = u64>) -> anyhow::Result<Vec<i64>> {
    values.into_iter().map(codec::int).collect()
}

async fn find_in(
    session: &mut ClientSession,
    collection: &mongodb::Collection<Document>,
    ids: Bson,
) -> anyhow::Result<Vec<Document>> {
    let mut cursor = collection
        .find(doc! { "_id": { "$in": ids } })
        .session(&mut *session)
        .await?;
    let mut documents = Vec::new();
    while cursor.advance(session).await? {
        documents.push(Document::try_from(cursor.current())?);
    }
    Ok(documents)
}

impl Ledger {
    /// Loads the reservations and records of `needs.refs` and the watermarks (round one).
    pub async fn load_orders(
        &mut self,
        cols: &Collections,
        session: &mut ClientSession,
        needs: &Needs,
    ) -> anyhow::Result<()> {
        let refs = Bson::from(ints(needs.refs.iter().copied())?);
        for &order_ref in &needs.refs {
            self.reservations.insert(order_ref, Slot::loaded(None));
            self.stock_txs.insert(order_ref, Slot::loaded(None));
        }
        for document in find_in(session, &cols.reservations, refs.clone()).await? {
            let order_ref = codec::uint(&document, "_id")?;
            let reservation = codec::reservation(&document)?;
            self.reservations
                .insert(order_ref, Slot::loaded(Some(reservation)));
        }
        for document in find_in(session, &cols.stock_txs, refs).await? {
            let (record, seq) = codec::stock_tx(&document)?;
            self.stock_txs
                .insert(record.stock_tx_id, Slot::loaded(Some((record, seq))));
        }
        let shards: Vec<i64> = needs.shards.iter().map(|s| i64::from(*s)).collect();
        for &shard in &needs.shards {
            self.watermarks.insert(shard, Slot::loaded(0));
        }
        for document in find_in(session, &cols.watermarks, Bson::from(shards)).await? {
            let shard = u32::try_from(codec::uint(&document, "_id")?)?;
            let applied = codec::uint(&document, "applied_through")?;
            self.watermarks.insert(shard, Slot::loaded(applied));
        }
        Ok(())
    }

    /// Adds the owners of the loaded reservations to `needs` (what releasing them touches).
    pub fn add_reservation_owners(&self, needs: &mut Needs) {
        for reservation in self.reservations.values().filter_map(|s| s.value.as_ref()) {
            needs.users.insert(reservation.user_id);
            needs
                .holdings
                .insert((reservation.user_id, reservation.stock_id));
        }
    }

    /// Loads the wallets and holdings of `needs` (round two).
    pub async fn load_balances(
        &mut self,
        cols: &Collections,
        session: &mut ClientSession,
        needs: &Needs,
    ) -> anyhow::Result<()> {
        for &user in &needs.users {
            self.wallets.insert(user, Slot::loaded((0, 0)));
        }
        let users = Bson::from(ints(needs.users.iter().copied())?);
        for document in find_in(session, &cols.wallets, users).await? {
            let user = codec::uint(&document, "_id")?;
            self.wallets
                .insert(user, Slot::loaded(codec::pair(Some(&document))?));
        }
        for &key in &needs.holdings {
            self.holdings.insert(key, Slot::loaded((0, 0)));
        }
        let ids: Vec<Bson> = needs
            .holdings
            .iter()
            .map(|(user, stock)| Bson::String(codec::holding_id(*user, *stock)))
            .collect();
        for document in find_in(session, &cols.holdings, Bson::Array(ids)).await? {
            let key = (
                codec::uint(&document, "user_id")?,
                codec::uint(&document, "stock_id")?,
            );
            self.holdings
                .insert(key, Slot::loaded(codec::pair(Some(&document))?));
        }
        Ok(())
    }

    /// The pending reservations among the loaded ones.
    pub fn pending_reservations(&self) -> Vec<u64> {
        self.reservations
            .iter()
            .filter(|(_, slot)| slot.value.as_ref().is_some_and(|r| r.pending))
            .map(|(order_ref, _)| *order_ref)
            .collect()
    }

    /// A shard's watermark.
    pub fn watermark(&self, shard: u32) -> anyhow::Result<u64> {
        self.watermarks
            .get(&shard)
            .map(|slot| slot.value)
            .ok_or_else(|| anyhow::anyhow!("ledger: the watermark of shard {shard} was not loaded"))
    }

    /// Sets a shard's watermark.
    pub fn put_watermark(&mut self, shard: u32, applied: u64) {
        self.watermarks.insert(
            shard,
            Slot {
                value: applied,
                dirty: true,
            },
        );
    }

    /// A wallet: (available, escrowed) cents.
    pub fn wallet(&self, user_id: u64) -> anyhow::Result<(u64, u64)> {
        self.wallets
            .get(&user_id)
            .map(|slot| slot.value)
            .ok_or_else(|| anyhow::anyhow!("ledger: the wallet of user {user_id} was not loaded"))
    }

    /// Sets a wallet.
    pub fn put_wallet(&mut self, user_id: u64, wallet: (u64, u64)) {
        self.wallets.insert(
            user_id,
            Slot {
                value: wallet,
                dirty: true,
            },
        );
    }

    /// A holding: (available, escrowed) lots.
    pub fn holding(&self, user_id: u64, stock_id: u64) -> anyhow::Result<(u64, u64)> {
        self.holdings
            .get(&(user_id, stock_id))
            .map(|slot| slot.value)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "ledger: the holding of user {user_id} in {stock_id} was not loaded"
                )
            })
    }

    /// Sets a holding.
    pub fn put_holding(&mut self, user_id: u64, stock_id: u64, lots: (u64, u64)) {
        self.holdings.insert(
            (user_id, stock_id),
            Slot {
                value: lots,
                dirty: true,
            },
        );
    }

    /// An order's reservation.
    pub fn reservation(&self, order_ref: u64) -> anyhow::Result<Option<Reservation>> {
        self.reservations
            .get(&order_ref)
            .map(|slot| slot.value.clone())
            .ok_or_else(|| {
                anyhow::anyhow!("ledger: the reservation of order {order_ref} was not loaded")
            })
    }

    /// Sets an order's reservation.
    pub fn put_reservation(&mut self, order_ref: u64, reservation: Reservation) {
        self.reservations.insert(
            order_ref,
            Slot {
                value: Some(reservation),
                dirty: true,
            },
        );
    }

    /// Removes an order's reservation.
    pub fn remove_reservation(&mut self, order_ref: u64) {
        self.reservations.insert(
            order_ref,
            Slot {
                value: None,
                dirty: true,
            },
        );
    }

    /// A stock record (loaded, or created by this job).
    pub fn stock_tx(&self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        self.stock_txs
            .get(&stock_tx_id)
            .map(|slot| slot.value.as_ref().map(|(tx, _)| tx.clone()))
            .ok_or_else(|| anyhow::anyhow!("ledger: stock tx {stock_tx_id} was not loaded"))
    }

    /// Creates a stock record with the next creation sequence.
    pub fn insert_stock_tx(&mut self, record: StockTx) {
        let seq = self.next(IdKind::RecordSeq);
        self.stock_txs.insert(
            record.stock_tx_id,
            Slot {
                value: Some((record, seq)),
                dirty: true,
            },
        );
    }

    /// Updates an existing stock record (keeps its creation sequence).
    pub fn put_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        let slot = self
            .stock_txs
            .get_mut(&record.stock_tx_id)
            .and_then(|slot| slot.value.as_mut().map(|value| (value, &mut slot.dirty)))
            .ok_or_else(|| anyhow::anyhow!("ledger: stock tx {} is unknown", record.stock_tx_id))?;
        slot.0.0 = record;
        *slot.1 = true;
        Ok(())
    }

    /// Creates a wallet record with the next creation sequence.
    pub fn insert_wallet_tx(&mut self, tx: WalletTx, user_id: u64, trade: (u64, u64)) {
        let seq = self.next(IdKind::RecordSeq);
        self.wallet_txs.push(StoredWalletTx {
            tx,
            user_id,
            seq,
            trade,
        });
    }

    /// The next (provisional) id of `kind`.
    pub fn next(&mut self, kind: IdKind) -> u64 {
        let index = kind.index();
        let id = provisional_base(kind) + self.issued[index];
        self.issued[index] += 1;
        id
    }

    /// Stock tx ids handed out from now on stay above `used` (an id taken by a lost
    /// reservation).
    pub fn keep_stock_tx_ids_above(&mut self, used: u64) {
        self.stock_tx_floor = Some(self.stock_tx_floor.map_or(used, |floor| floor.max(used)));
    }

    /// Takes the real ids and writes every change in `session`'s transaction.
    pub async fn flush(
        self,
        cols: &Collections,
        session: &mut ClientSession,
    ) -> anyhow::Result<()> {
        if let Some(floor) = self.stock_tx_floor {
            txn::bump(cols, counter::STOCK_TX_ID, floor).await?;
        }
        let mut firsts = [0; 3];
        for (kind, counter_name) in KINDS {
            let count = self.issued[kind.index()];
            if count > 0 {
                firsts[kind.index()] = txn::take_ids(cols, counter_name, count).await?;
            }
        }
        let real = |kind: IdKind, id: u64| -> u64 {
            let base = provisional_base(kind);
            if (base..base + RANGE).contains(&id) {
                firsts[kind.index()] + (id - base)
            } else {
                id
            }
        };
        let mut wallets = Vec::new();
        for (user, slot) in self.wallets.iter().filter(|(_, s)| s.dirty) {
            wallets.push(codec::wallet_doc(*user, slot.value)?);
        }
        txn::replace_all(cols, session, name::WALLETS, wallets).await?;
        let mut holdings = Vec::new();
        for ((user, stock), slot) in self.holdings.iter().filter(|(_, s)| s.dirty) {
            holdings.push(codec::holding_doc(*user, *stock, slot.value)?);
        }
        txn::replace_all(cols, session, name::HOLDINGS, holdings).await?;
        let (mut kept, mut removed) = (Vec::new(), Vec::new());
        for (order_ref, slot) in self.reservations.iter().filter(|(_, s)| s.dirty) {
            match &slot.value {
                Some(reservation) => kept.push(codec::reservation_doc(*order_ref, reservation)?),
                None => removed.push(Bson::Int64(codec::int(*order_ref)?)),
            }
        }
        txn::replace_all(cols, session, name::RESERVATIONS, kept).await?;
        txn::delete_all(cols, session, name::RESERVATIONS, removed).await?;
        let mut records = Vec::new();
        for slot in self.stock_txs.values().filter(|s| s.dirty) {
            let Some((record, seq)) = &slot.value else {
                continue;
            };
            let mut record = record.clone();
            record.stock_tx_id = real(IdKind::StockTx, record.stock_tx_id);
            record.wallet_tx_id = record.wallet_tx_id.map(|id| real(IdKind::WalletTx, id));
            records.push(codec::stock_tx_doc(&record, real(IdKind::RecordSeq, *seq))?);
        }
        txn::replace_all(cols, session, name::STOCK_TXS, records).await?;
        let mut wallet_txs = Vec::new();
        for stored in &self.wallet_txs {
            let mut stored = stored.clone();
            stored.tx.wallet_tx_id = real(IdKind::WalletTx, stored.tx.wallet_tx_id);
            stored.tx.stock_tx_id = real(IdKind::StockTx, stored.tx.stock_tx_id);
            stored.seq = real(IdKind::RecordSeq, stored.seq);
            wallet_txs.push(codec::wallet_tx_doc(&stored)?);
        }
        txn::insert_all(cols, session, name::WALLET_TXS, wallet_txs).await?;
        let mut watermarks = Vec::new();
        for (shard, slot) in self.watermarks.iter().filter(|(_, s)| s.dirty) {
            watermarks.push(doc! {
                "_id": i64::from(*shard),
                "applied_through": codec::int(slot.value)?,
            });
        }
        txn::replace_all(cols, session, name::WATERMARKS, watermarks).await
    }
}
