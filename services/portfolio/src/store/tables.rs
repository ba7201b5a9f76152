//! Table definitions and the small typed accessors every write path uses.

use std::collections::BTreeMap;

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::domain::ledger::{Balance, IdKind, Ledger, Reservation};
use crate::domain::records::{StockTx, WalletTx};

/// Counters and per-shard watermarks.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("portfolio_meta");
/// stock id -> name.
pub const STOCKS: TableDefinition<u64, &str> = TableDefinition::new("portfolio_stocks");
/// stock name -> id.
pub const STOCK_NAMES: TableDefinition<&str, u64> = TableDefinition::new("portfolio_stock_names");
/// user -> (available cents, escrowed cents).
pub const WALLETS: TableDefinition<u64, (u64, u64)> = TableDefinition::new("portfolio_wallets");
/// (user, stock) -> (available lots, escrowed lots).
pub const HOLDINGS: TableDefinition<(u64, u64), (u64, u64)> =
    TableDefinition::new("portfolio_holdings");
/// order ref -> postcard [`Reservation`].
pub const RESERVATIONS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("portfolio_reservations");
/// stock tx id -> postcard `StockTx`.
pub const STOCK_TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("portfolio_stock_txs");
/// wallet tx id -> postcard `WalletTx`.
pub const WALLET_TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("portfolio_wallet_txs");
/// (user, creation sequence) -> (is a wallet tx, its id): one index for both kinds of record, so
/// a settlement dirties one leaf per user instead of two (the pages a durable commit writes are
/// most of its cost).
pub const USER_RECORDS: TableDefinition<(u64, u64), (bool, u64)> =
    TableDefinition::new("portfolio_user_records");

/// (user, client order id) -> the first order's ref.
pub const CLIENT_ORDERS: TableDefinition<(u64, &str), u64> =
    TableDefinition::new("portfolio_client_orders");

/// Counter names in [`META`].
pub mod counter {
    /// Stock ids.
    pub const STOCK_ID: &str = "next_stock_id";
    /// Stock transaction ids (order refs and children).
    pub const STOCK_TX_ID: &str = "next_stock_tx_id";
    /// Wallet transaction ids.
    pub const WALLET_TX_ID: &str = "next_wallet_tx_id";
    /// Creation sequence of records (list order).
    pub const RECORD_SEQ: &str = "next_record_seq";

    /// The counter of `kind`.
    pub fn of(kind: crate::domain::ledger::IdKind) -> &'static str {
        match kind {
            crate::domain::ledger::IdKind::StockTx => STOCK_TX_ID,
            crate::domain::ledger::IdKind::WalletTx => WALLET_TX_ID,
        }
    }
}

/// A [`Reservation`] as written before `reserved_at_ns` existed (postcard has no optional
/// trailing fields, so such bytes are decoded by this form).
#[derive(Deserialize)]
struct ReservationV1 {
    user_id: u64,
    stock_id: u64,
    cash_cents: u64,
    shares: u64,
    pending: bool,
}

/// Decodes a stored reservation, of either layout.
pub fn decode_reservation(bytes: &[u8]) -> anyhow::Result<Reservation> {
    if let Ok(reservation) = postcard::from_bytes::<Reservation>(bytes) {
        return Ok(reservation);
    }
    let old: ReservationV1 = decode(bytes)?;
    Ok(Reservation {
        user_id: old.user_id,
        stock_id: old.stock_id,
        cash_cents: old.cash_cents,
        shares: old.shares,
        pending: old.pending,
        reserved_at_ns: 0,
    })
}

/// The portfolio tables of one job, each opened on first use: a reservation touches 4 of the 10,
/// and opening (and closing) a redb table costs a lookup in the table tree (~4% of the CPU under
/// the place-order load when every job opened all of them).
pub struct Tables<'t> {
    txn: &'t WriteTransaction,
    /// (counter, next value, advanced by this job): written back by `finish`.
    counters: Vec<(&'static str, u64, bool)>,
    /// (shard, applied through, changed by this job): likewise read once, written by `finish`.
    watermarks: Vec<(u32, u64, bool)>,
    /// Reservations this job read or wrote: (value, changed); `None` = absent or removed.
    /// Settling a fill reads and writes the same few reservations and records several times
    /// (reservation: escrow taken, then released at the end; the taker's record: created,
    /// filled, ended), so they are written once, by `finish`. Ordered: a deterministic write order.
    reservation_cache: BTreeMap<u64, (Option<Reservation>, bool)>,
    /// Stock records this job read or wrote, likewise.
    stock_tx_cache: BTreeMap<u64, (Option<StockTx>, bool)>,
    meta: Option<Table<'t, &'static str, u64>>,
    stocks: Option<Table<'t, u64, &'static str>>,
    stock_names: Option<Table<'t, &'static str, u64>>,
    wallets: Option<Table<'t, u64, (u64, u64)>>,
    holdings: Option<Table<'t, (u64, u64), (u64, u64)>>,
    reservations: Option<Table<'t, u64, &'static [u8]>>,
    stock_txs: Option<Table<'t, u64, &'static [u8]>>,
    wallet_txs: Option<Table<'t, u64, &'static [u8]>>,
    user_records: Option<Table<'t, (u64, u64), (bool, u64)>>,
    client_orders: Option<Table<'t, (u64, &'static str), u64>>,
}

/// `slot`'s table, opened in `txn` the first time.
fn lazy<'s, 't, K: redb::Key + 'static, V: redb::Value + 'static>(
    slot: &'s mut Option<Table<'t, K, V>>,
    txn: &'t WriteTransaction,
    definition: TableDefinition<K, V>,
) -> anyhow::Result<&'s mut Table<'t, K, V>> {
    Ok(match slot {
        Some(table) => table,
        None => slot.insert(txn.open_table(definition)?),
    })
}

macro_rules! accessors {
    ($($name:ident: $definition:ident => $key:ty, $value:ty;)*) => {
        $(
            #[doc = concat!("The `", stringify!($definition), "` table.")]
            pub fn $name(&mut self) -> anyhow::Result<&mut Table<'t, $key, $value>> {
                lazy(&mut self.$name, self.txn, $definition)
            }
        )*
    };
}

impl<'t> Tables<'t> {
    /// Runs `job` on the tables of `txn`, then writes back the counters it advanced.
    pub fn job<R>(
        txn: &'t WriteTransaction,
        job: impl FnOnce(&mut Tables<'t>) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        let mut tables = Tables::new(txn);
        let result = job(&mut tables)?;
        tables.finish()?;
        Ok(result)
    }

    /// The tables of `txn`, none opened yet.
    fn new(txn: &'t WriteTransaction) -> Self {
        Self {
            txn,
            counters: Vec::new(),
            watermarks: Vec::new(),
            reservation_cache: BTreeMap::new(),
            stock_tx_cache: BTreeMap::new(),
            meta: None,
            stocks: None,
            stock_names: None,
            wallets: None,
            holdings: None,
            reservations: None,
            stock_txs: None,
            wallet_txs: None,
            user_records: None,
            client_orders: None,
        }
    }

    /// Creates every table that does not exist yet (read transactions need them all).
    pub fn create_all(txn: &WriteTransaction) -> anyhow::Result<()> {
        let mut t = Tables::new(txn);
        t.meta()?;
        t.stocks()?;
        t.stock_names()?;
        t.wallets()?;
        t.holdings()?;
        t.reservations()?;
        t.stock_txs()?;
        t.wallet_txs()?;
        t.user_records()?;
        t.client_orders()?;
        Ok(())
    }

    accessors! {
        meta: META => &'static str, u64;
        stocks: STOCKS => u64, &'static str;
        stock_names: STOCK_NAMES => &'static str, u64;
        wallets: WALLETS => u64, (u64, u64);
        holdings: HOLDINGS => (u64, u64), (u64, u64);
        reservations: RESERVATIONS => u64, &'static [u8];
        stock_txs: STOCK_TXS => u64, &'static [u8];
        wallet_txs: WALLET_TXS => u64, &'static [u8];
        user_records: USER_RECORDS => (u64, u64), (bool, u64);
        client_orders: CLIENT_ORDERS => (u64, &'static str), u64;
    }

    /// Takes the next value of counter `name` (first value 1). Counters are read once per job
    /// and written back by [`Tables::finish`].
    pub fn next(&mut self, name: &'static str) -> anyhow::Result<u64> {
        let counter = self.counter(name)?;
        let value = counter.1;
        counter.1 += 1;
        counter.2 = true;
        Ok(value)
    }

    /// Makes counter `name` hand out values above `used` from now on.
    pub fn bump(&mut self, name: &'static str, used: u64) -> anyhow::Result<()> {
        let counter = self.counter(name)?;
        if counter.1 <= used {
            counter.1 = used + 1;
            counter.2 = true;
        }
        Ok(())
    }

    fn counter(&mut self, name: &'static str) -> anyhow::Result<&mut (&'static str, u64, bool)> {
        let index = match self.counters.iter().position(|c| c.0 == name) {
            Some(index) => index,
            None => {
                let next = self.meta()?.get(name)?.map_or(1, |v| v.value());
                self.counters.push((name, next, false));
                self.counters.len() - 1
            }
        };
        Ok(&mut self.counters[index])
    }

    /// Writes the counters and watermarks the job advanced and the cached records it changed.
    /// Every job ends with it (see [`Tables::job`]).
    fn finish(mut self) -> anyhow::Result<()> {
        for (name, next, changed) in std::mem::take(&mut self.counters) {
            if changed {
                self.meta()?.insert(name, next)?;
            }
        }
        for (shard, applied, changed) in std::mem::take(&mut self.watermarks) {
            if changed {
                self.meta()?.insert(applied_key(shard).as_str(), applied)?;
            }
        }
        for (order_ref, (reservation, changed)) in std::mem::take(&mut self.reservation_cache) {
            match reservation {
                Some(reservation) if changed => {
                    let bytes = postcard::to_stdvec(&reservation)?;
                    self.reservations()?.insert(order_ref, bytes.as_slice())?;
                }
                None if changed => {
                    self.reservations()?.remove(order_ref)?;
                }
                _ => {}
            }
        }
        for (stock_tx_id, (record, changed)) in std::mem::take(&mut self.stock_tx_cache) {
            if let Some(record) = record.filter(|_| changed) {
                let bytes = postcard::to_stdvec(&record)?;
                self.stock_txs()?.insert(stock_tx_id, bytes.as_slice())?;
            }
        }
        Ok(())
    }

    /// The watermark slot of `shard`, read on first use.
    fn watermark_slot(&mut self, shard: u32) -> anyhow::Result<&mut (u32, u64, bool)> {
        let index = match self.watermarks.iter().position(|w| w.0 == shard) {
            Some(index) => index,
            None => {
                let key = applied_key(shard);
                let applied = self.meta()?.get(key.as_str())?.map_or(0, |v| v.value());
                self.watermarks.push((shard, applied, false));
                self.watermarks.len() - 1
            }
        };
        Ok(&mut self.watermarks[index])
    }

    /// Appends `(user, kind, id)` to the user's list of records, after every earlier one.
    fn list_record(&mut self, user_id: u64, is_wallet_tx: bool, id: u64) -> anyhow::Result<()> {
        let seq = self.next(counter::RECORD_SEQ)?;
        self.user_records()?
            .insert((user_id, seq), (is_wallet_tx, id))?;
        Ok(())
    }
}

/// The rules' view of one write transaction. Reservations and stock records are cached and
/// written by [`Tables::finish`]; wallets and holdings go straight to their tables.
impl Ledger for Tables<'_> {
    fn watermark(&mut self, shard: u32) -> anyhow::Result<u64> {
        Ok(self.watermark_slot(shard)?.1)
    }

    fn put_watermark(&mut self, shard: u32, applied: u64) -> anyhow::Result<()> {
        let slot = self.watermark_slot(shard)?;
        slot.1 = applied;
        slot.2 = true;
        Ok(())
    }

    fn wallet(&mut self, user_id: u64) -> anyhow::Result<Balance> {
        Ok(self.wallets()?.get(user_id)?.map_or((0, 0), |v| v.value()))
    }

    fn put_wallet(&mut self, user_id: u64, wallet: Balance) -> anyhow::Result<()> {
        self.wallets()?.insert(user_id, wallet)?;
        Ok(())
    }

    fn holding(&mut self, user_id: u64, stock_id: u64) -> anyhow::Result<Balance> {
        Ok(self
            .holdings()?
            .get((user_id, stock_id))?
            .map_or((0, 0), |v| v.value()))
    }

    fn put_holding(&mut self, user_id: u64, stock_id: u64, lots: Balance) -> anyhow::Result<()> {
        self.holdings()?.insert((user_id, stock_id), lots)?;
        Ok(())
    }

    fn reservation(&mut self, order_ref: u64) -> anyhow::Result<Option<Reservation>> {
        if let Some((cached, _)) = self.reservation_cache.get(&order_ref) {
            return Ok(cached.clone());
        }
        let stored = self
            .reservations()?
            .get(order_ref)?
            .map(|v| decode_reservation(v.value()))
            .transpose()?;
        self.reservation_cache
            .insert(order_ref, (stored.clone(), false));
        Ok(stored)
    }

    fn put_reservation(&mut self, order_ref: u64, reservation: Reservation) -> anyhow::Result<()> {
        self.reservation_cache
            .insert(order_ref, (Some(reservation), true));
        Ok(())
    }

    fn remove_reservation(&mut self, order_ref: u64) -> anyhow::Result<()> {
        self.reservation_cache.insert(order_ref, (None, true));
        Ok(())
    }

    fn stock_tx(&mut self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        if let Some((cached, _)) = self.stock_tx_cache.get(&stock_tx_id) {
            return Ok(cached.clone());
        }
        let stored = self
            .stock_txs()?
            .get(stock_tx_id)?
            .map(|v| decode::<StockTx>(v.value()))
            .transpose()?;
        self.stock_tx_cache
            .insert(stock_tx_id, (stored.clone(), false));
        Ok(stored)
    }

    fn insert_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        self.list_record(record.user_id, false, record.stock_tx_id)?;
        self.put_stock_tx(record)
    }

    fn put_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        self.stock_tx_cache
            .insert(record.stock_tx_id, (Some(record), true));
        Ok(())
    }

    /// The trade is not kept: redb settles a batch in one job with its watermark, so a trade
    /// cannot be settled twice.
    fn insert_wallet_tx(
        &mut self,
        record: WalletTx,
        user_id: u64,
        _trade: contracts::TradeId,
    ) -> anyhow::Result<()> {
        self.list_record(user_id, true, record.wallet_tx_id)?;
        self.wallet_txs()?.insert(
            record.wallet_tx_id,
            postcard::to_stdvec(&record)?.as_slice(),
        )?;
        Ok(())
    }

    fn next_id(&mut self, kind: IdKind) -> anyhow::Result<u64> {
        self.next(counter::of(kind))
    }

    fn keep_stock_tx_ids_above(&mut self, used: u64) -> anyhow::Result<()> {
        self.bump(counter::STOCK_TX_ID, used)
    }
}

/// The watermark key of `shard`.
pub fn applied_key(shard: u32) -> String {
    format!("applied_through/{shard}")
}

/// Reads a postcard value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    Ok(postcard::from_bytes(bytes)?)
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct WrittenBeforeTheTimestamp {
        user_id: u64,
        stock_id: u64,
        cash_cents: u64,
        shares: u64,
        pending: bool,
    }

    #[test]
    fn reservations_of_both_layouts_decode() {
        let old = WrittenBeforeTheTimestamp {
            user_id: 7,
            stock_id: 3,
            cash_cents: 500,
            shares: 0,
            pending: true,
        };
        let bytes = postcard::to_stdvec(&old).unwrap_or_else(|e| panic!("{e}"));
        let decoded = decode_reservation(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (decoded.user_id, decoded.cash_cents, decoded.pending),
            (7, 500, true)
        );
        assert_eq!(decoded.reserved_at_ns, 0, "unknown: the oldest");
        let new = Reservation {
            reserved_at_ns: 1_700_000_000_000_000_000,
            ..decoded
        };
        let bytes = postcard::to_stdvec(&new).unwrap_or_else(|e| panic!("{e}"));
        let decoded = decode_reservation(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded.reserved_at_ns, new.reserved_at_ns);
        assert!(decode_reservation(&[1, 2]).is_err());
    }
}
