//! One job's view of the state: reads see the job's own writes first, writes stay in the
//! overlay. A job that refuses or fails drops its overlay (the state never saw it); a job that
//! succeeds turns it into the [`Change`]s the journal records and the state applies.

use contracts::TradeId;
use rustc_hash::FxHashMap;

use super::state::{Change, Counter, LastIds, State};
use crate::domain::ledger::{Balance, IdKind, Ledger, Reservation};
use crate::domain::records::{StockTx, WalletTx};

/// The pending writes of one job over `base`.
pub struct Overlay<'s> {
    base: &'s State,
    wallets: FxHashMap<u64, Balance>,
    holdings: FxHashMap<(u64, u64), Balance>,
    reservations: FxHashMap<u64, Option<Reservation>>,
    stock_txs: FxHashMap<u64, StockTx>,
    /// Appended in order: new wallet transactions, list entries, stocks, client order ids.
    appended: Vec<Change>,
    last_ids: LastIds,
    watermarks: Vec<(u32, u64)>,
}

impl<'s> Overlay<'s> {
    /// An empty overlay over `base`.
    pub fn new(base: &'s State) -> Self {
        Self {
            base,
            wallets: FxHashMap::default(),
            holdings: FxHashMap::default(),
            reservations: FxHashMap::default(),
            stock_txs: FxHashMap::default(),
            appended: Vec::new(),
            last_ids: base.last_ids,
            watermarks: Vec::new(),
        }
    }

    /// The state the overlay reads under its own writes.
    pub fn base(&self) -> &'s State {
        self.base
    }

    /// The job's changes (empty when it wrote nothing).
    pub fn into_changes(self) -> Vec<Change> {
        let mut changes = self.appended;
        changes.extend(
            self.wallets
                .into_iter()
                .map(|(user_id, balance)| Change::Wallet { user_id, balance }),
        );
        changes.extend(
            self.holdings
                .into_iter()
                .map(|((user_id, stock_id), lots)| Change::Holding {
                    user_id,
                    stock_id,
                    lots,
                }),
        );
        changes.extend(
            self.reservations
                .into_iter()
                .map(|(order_ref, reservation)| Change::Reservation {
                    order_ref,
                    reservation,
                }),
        );
        changes.extend(self.stock_txs.into_values().map(Change::StockTx));
        for counter in [Counter::Stock, Counter::StockTx, Counter::WalletTx] {
            let value = self.last_ids.get(counter);
            if value != self.base.last_ids.get(counter) {
                changes.push(Change::LastId { counter, value });
            }
        }
        changes.extend(
            self.watermarks
                .into_iter()
                .map(|(shard, applied)| Change::Watermark { shard, applied }),
        );
        changes
    }

    /// Takes the next id of `counter`.
    pub fn next(&mut self, counter: Counter) -> anyhow::Result<u64> {
        let value = self
            .last_ids
            .get(counter)
            .checked_add(1)
            .ok_or_else(|| anyhow::anyhow!("the {counter:?} ids are exhausted"))?;
        self.last_ids.set(counter, value);
        Ok(value)
    }

    /// True when the stock exists (stocks are only created by their own jobs).
    pub fn stock_exists(&self, stock_id: u64) -> bool {
        self.base.stocks.contains_key(&stock_id)
    }

    /// The id of the stock named `name`.
    pub fn stock_named(&self, name: &str) -> Option<u64> {
        self.base.stock_names.get(name).copied()
    }

    /// Creates a stock.
    pub fn insert_stock(&mut self, stock_id: u64, name: String) {
        self.appended.push(Change::Stock { stock_id, name });
    }

    /// The first order that used `key` of `user_id`.
    pub fn client_order(&self, user_id: u64, key: &str) -> Option<u64> {
        self.base
            .client_orders
            .get(&(user_id, key.to_owned()))
            .copied()
    }

    /// Records that `order_ref` took `key` of `user_id`.
    pub fn insert_client_order(&mut self, user_id: u64, key: String, order_ref: u64) {
        self.appended.push(Change::ClientOrder {
            user_id,
            key,
            order_ref,
        });
    }

    fn list(&mut self, user_id: u64, is_wallet_tx: bool, id: u64) {
        self.appended.push(Change::Listed {
            user_id,
            is_wallet_tx,
            id,
        });
    }
}

impl Ledger for Overlay<'_> {
    fn watermark(&mut self, shard: u32) -> anyhow::Result<u64> {
        Ok(match self.watermarks.iter().find(|(s, _)| *s == shard) {
            Some((_, applied)) => *applied,
            None => self.base.watermarks.get(&shard).copied().unwrap_or(0),
        })
    }

    fn put_watermark(&mut self, shard: u32, applied: u64) -> anyhow::Result<()> {
        self.watermarks.retain(|(s, _)| *s != shard);
        self.watermarks.push((shard, applied));
        Ok(())
    }

    fn wallet(&mut self, user_id: u64) -> anyhow::Result<Balance> {
        let base = || self.base.wallets.get(&user_id).copied();
        Ok(self
            .wallets
            .get(&user_id)
            .copied()
            .or_else(base)
            .unwrap_or((0, 0)))
    }

    fn put_wallet(&mut self, user_id: u64, wallet: Balance) -> anyhow::Result<()> {
        self.wallets.insert(user_id, wallet);
        Ok(())
    }

    fn holding(&mut self, user_id: u64, stock_id: u64) -> anyhow::Result<Balance> {
        let key = (user_id, stock_id);
        let base = || self.base.holdings.get(&key).copied();
        Ok(self
            .holdings
            .get(&key)
            .copied()
            .or_else(base)
            .unwrap_or((0, 0)))
    }

    fn put_holding(&mut self, user_id: u64, stock_id: u64, lots: Balance) -> anyhow::Result<()> {
        self.holdings.insert((user_id, stock_id), lots);
        Ok(())
    }

    fn reservation(&mut self, order_ref: u64) -> anyhow::Result<Option<Reservation>> {
        Ok(match self.reservations.get(&order_ref) {
            Some(pending) => pending.clone(),
            None => self.base.reservations.get(&order_ref).cloned(),
        })
    }

    fn put_reservation(&mut self, order_ref: u64, reservation: Reservation) -> anyhow::Result<()> {
        self.reservations.insert(order_ref, Some(reservation));
        Ok(())
    }

    fn remove_reservation(&mut self, order_ref: u64) -> anyhow::Result<()> {
        self.reservations.insert(order_ref, None);
        Ok(())
    }

    fn stock_tx(&mut self, stock_tx_id: u64) -> anyhow::Result<Option<StockTx>> {
        Ok(match self.stock_txs.get(&stock_tx_id) {
            Some(pending) => Some(pending.clone()),
            None => self.base.stock_txs.get(&stock_tx_id).cloned(),
        })
    }

    fn insert_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        self.list(record.user_id, false, record.stock_tx_id);
        self.put_stock_tx(record)
    }

    fn put_stock_tx(&mut self, record: StockTx) -> anyhow::Result<()> {
        self.stock_txs.insert(record.stock_tx_id, record);
        Ok(())
    }

    /// The trade is not kept: a batch is settled in one job with its watermark, so a trade
    /// cannot be settled twice.
    fn insert_wallet_tx(
        &mut self,
        record: WalletTx,
        user_id: u64,
        _trade: TradeId,
    ) -> anyhow::Result<()> {
        self.list(user_id, true, record.wallet_tx_id);
        self.appended.push(Change::WalletTx(record));
        Ok(())
    }

    fn next_id(&mut self, kind: IdKind) -> anyhow::Result<u64> {
        self.next(Counter::from(kind))
    }

    fn keep_stock_tx_ids_above(&mut self, used: u64) -> anyhow::Result<()> {
        if self.last_ids.stock_tx < used {
            self.last_ids.stock_tx = used;
        }
        Ok(())
    }
}
