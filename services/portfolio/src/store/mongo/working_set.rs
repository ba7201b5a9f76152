//! The documents one settlement (or orphan release) touches, loaded up front inside its
//! transaction, changed in memory by the settlement rules (`domain::settlement`, run against
//! this working set as their [`Ledger`]), and written back in one bulk command per collection.
//!
//! Which documents an outcome touches follows from the outcome itself (its orders' refs and
//! users, [`Touched::by`]) and from the reservations of those orders, so loading takes two
//! rounds of `$in` queries, however many outcomes the batch holds. Reading a document that was
//! not loaded is an error (a bug here), never a silent zero.
//!
//! Ids are handed out provisionally during the computation (in ranges no real id reaches) and
//! replaced by real ones at the end, taken in one counter increment per kind; so a batch costs
//! three counter round trips and the ids of one batch are consecutive.

use std::collections::BTreeMap;

use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};

use contracts::TradeId;

use super::codec::{self, StoredWalletTx};
use super::collections::counter;
use super::collections::{Collections, name};
use super::txn::{self, Bulk};
use crate::domain::ledger::{Balance, IdKind, Ledger, Reservation};
use crate::domain::records::{StockTx, WalletTx};
use crate::domain::settlement::Touched;

/// Provisional ids start here; each kind has its own range of 2^60 values.
const PROVISIONAL: u64 = 1 << 62;
const RANGE: u64 = 1 << 60;

/// The kinds of ids a settlement hands out: the rules' [`IdKind`]s and the creation sequence.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Stock transaction ids (children).
    StockTx,
    /// Wallet transaction ids.
    WalletTx,
    /// Creation sequence of records.
    RecordSeq,
}

impl From<IdKind> for Kind {
    fn from(kind: IdKind) -> Self {
        match kind {
            IdKind::StockTx => Self::StockTx,
            IdKind::WalletTx => Self::WalletTx,
        }
    }
}

impl Kind {
    fn index(self) -> usize {
        match self {
            Self::StockTx => 0,
            Self::WalletTx => 1,
            Self::RecordSeq => 2,
        }
    }
}

const KINDS: [(Kind, &str); 3] = [
    (Kind::StockTx, counter::STOCK_TX_ID),
    (Kind::WalletTx, counter::WALLET_TX_ID),
    (Kind::RecordSeq, counter::RECORD_SEQ),
];

fn provisional_base(kind: Kind) -> u64 {
    let offset = match kind {
        Kind::StockTx => 0,
        Kind::WalletTx => RANGE,
        Kind::RecordSeq => 2 * RANGE,
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

    fn changed(value: T) -> Self {
        Self { value, dirty: true }
    }
}

/// The loaded documents and the changes made to them.
#[derive(Debug, Default)]
pub struct WorkingSet {
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

impl WorkingSet {
    /// Loads the reservations and records of `needs.refs` and the watermarks (round one).
    pub async fn load_orders(
        &mut self,
        cols: &Collections,
        session: &mut ClientSession,
        needs: &Touched,
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
    pub fn add_reservation_owners(&self, needs: &mut Touched) {
        for reservation in self.reservations.values().filter_map(|s| s.value.as_ref()) {
            needs.add_owner(reservation);
        }
    }

    /// Loads the wallets and holdings of `needs` (round two).
    pub async fn load_balances(
        &mut self,
        cols: &Collections,
        session: &mut ClientSession,
        needs: &Touched,
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

    /// A value a slot map holds for `key`; an error names what was not loaded.
    fn loaded<K: Ord, T: Clone>(
        slots: &BTreeMap<K, Slot<T>>,
        key: &K,
        what: impl FnOnce() -> String,
    ) -> anyhow::Result<T> {
        slots
            .get(key)
            .map(|slot| slot.value.clone())
            .ok_or_else(|| anyhow::anyhow!("working set: {} was not loaded", what()))
    }

    /// The next (provisional) id of `kind`.
    fn next(&mut self, kind: Kind) -> u64 {
        let index = kind.index();
        let id = provisional_base(kind) + self.issued[index];
        self.issued[index] += 1;
        id
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
        let real = |kind: Kind, id: u64| -> u64 {
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
        txn::write_all(cols, session, name::WALLETS, Bulk::Replace(wallets)).await?;
        let mut holdings = Vec::new();
        for ((user, stock), slot) in self.holdings.iter().filter(|(_, s)| s.dirty) {
            holdings.push(codec::holding_doc(*user, *stock, slot.value)?);
        }
        txn::write_all(cols, session, name::HOLDINGS, Bulk::Replace(holdings)).await?;
        let (mut kept, mut removed) = (Vec::new(), Vec::new());
        for (order_ref, slot) in self.reservations.iter().filter(|(_, s)| s.dirty) {
            match &slot.value {
                Some(reservation) => kept.push(codec::reservation_doc(*order_ref, reservation)?),
                None => removed.push(Bson::Int64(codec::int(*order_ref)?)),
            }
        }
        txn::write_all(cols, session, name::RESERVATIONS, Bulk::Replace(kept)).await?;
        txn::write_all(cols, session, name::RESERVATIONS, Bulk::Delete(removed)).await?;
        let mut records = Vec::new();
        for slot in self.stock_txs.values().filter(|s| s.dirty) {
            let Some((record, seq)) = &slot.value else {
                continue;
            };
            let mut record = record.clone();
            record.stock_tx_id = real(Kind::StockTx, record.stock_tx_id);
            record.wallet_tx_id = record.wallet_tx_id.map(|id| real(Kind::WalletTx, id));
            records.push(codec::stock_tx_doc(&record, real(Kind::RecordSeq, *seq))?);
        }
        txn::write_all(cols, session, name::STOCK_TXS, Bulk::Replace(records)).await?;
        let mut wallet_txs = Vec::new();
        for stored in &self.wallet_txs {
            let mut stored = stored.clone();
            stored.tx.wallet_tx_id = real(Kind::WalletTx, stored.tx.wallet_tx_id);
            stored.tx.stock_tx_id = real(Kind::StockTx, stored.tx.stock_tx_id);
            stored.seq = real(Kind::RecordSeq, stored.seq);
            wallet_txs.push(codec::wallet_tx_doc(&stored)?);
        }
        txn::write_all(cols, session, name::WALLET_TXS, Bulk::Insert(wallet_txs)).await?;
        let mut watermarks = Vec::new();
        for (shard, slot) in self.watermarks.iter().filter(|(_, s)| s.dirty) {
            watermarks.push(doc! {
                "_id": i64::from(*shard),
                "applied_through": codec::int(slot.value)?,
            });
        }
        txn::write_all(cols, session, name::WATERMARKS, Bulk::Replace(watermarks)).await
    }
}

/// Changed values are marked dirty and written by [`WorkingSet::flush`].
impl Ledger for WorkingSet {
    fn watermark(&mut self, shard: u32) -> anyhow::Result<u64> {
        Self::loaded(&self.watermarks, &shard, || {
            format!("the watermark of shard {shard}")
        })
    }

    fn put_watermark(&mut self, shard: u32, applied: u64) -> anyhow::Result<()> {
        self.watermarks.insert(shard, Slot::changed(applied));
        Ok(())
    }

    fn wallet(&mut self, user_id: u64) -> anyhow::Result<Balance> {
        Self::loaded(&self.wallets, &user_id, || {
            format!("the wallet of user {user_id}")
        })
    }

    fn put_wallet(&mut self, user_id: u64, wallet: Balance) -> anyhow::Result<()> {
        self.wallets.insert(user_id, Slot::changed(wallet));
        Ok(())
    }

    fn holding(&mut self, user_id: u64, stock_id: u64) -> anyhow::Result<Balance> {
        Self::loaded(&self.holdings, &(user_id, stock_id), || {
            format!("the holding of user {user_id} in {stock_id}")
        })
    }

    fn put_holding(&mut self, user_id: u64, stock_id: u64, lots: Balance) -> anyhow::Result<()> {
        self.holdings
            .insert((user_id, stock_id), Slot::changed(lots));
        Ok(())
    }

    fn reservation(&mut self, order_ref: u64) -> anyhow::Result<Option<Reservation>> {
        Self::loaded(&self.reservations, &order_ref, || {
            format!("the reservation of order {order_ref}")
        })
    }

    fn put_reservation(&mut self, order_ref: u64, reservation: Reservation) -> anyhow::Result<()> {
        self.reservations
            .insert(order_ref, Slot::changed(Some(reservation)));
        Ok(())
    }

    fn remove_reservation(&mut self, order_ref: u64) -> anyhow::Result<()> {
        self.reservations.insert(order_ref, Slot::changed(None));
        Ok(())
    }

    fn stock_tx(&mut self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        let stored = Self::loaded(&self.stock_txs, &stock_tx_id, || {
            format!("stock tx {stock_tx_id}")
        })?;
        Ok(stored.map(|(record, _)| record))
    }

    fn insert_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        let seq = self.next(Kind::RecordSeq);
        self.stock_txs
            .insert(record.stock_tx_id, Slot::changed(Some((record, seq))));
        Ok(())
    }

    fn put_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        let slot = self
            .stock_txs
            .get_mut(&record.stock_tx_id)
            .and_then(|slot| slot.value.as_mut().map(|value| (value, &mut slot.dirty)))
            .ok_or_else(|| {
                anyhow::anyhow!("working set: stock tx {} is unknown", record.stock_tx_id)
            })?;
        slot.0.0 = record;
        *slot.1 = true;
        Ok(())
    }

    fn insert_wallet_tx(
        &mut self,
        record: WalletTx,
        user_id: u64,
        trade: TradeId,
    ) -> anyhow::Result<()> {
        let seq = self.next(Kind::RecordSeq);
        self.wallet_txs.push(StoredWalletTx {
            tx: record,
            user_id,
            seq,
            trade: (trade.stock_id, trade.sequence),
        });
        Ok(())
    }

    fn next_id(&mut self, kind: IdKind) -> anyhow::Result<u64> {
        Ok(self.next(Kind::from(kind)))
    }

    fn keep_stock_tx_ids_above(&mut self, used: u64) -> anyhow::Result<()> {
        self.stock_tx_floor = Some(self.stock_tx_floor.map_or(used, |floor| floor.max(used)));
        Ok(())
    }
}
