//! The whole embedded portfolio in memory, and the changes the journal records: a change is an
//! absolute value (a wallet's new balance, a record's new content), so replaying the journal's
//! changes in order after the snapshot rebuilds exactly the state that answered the requests.

use imbl::{HashMap, OrdMap, Vector};
use serde::{Deserialize, Serialize};

use crate::domain::ledger::{Balance, IdKind, Reservation};
use crate::domain::records::{StockTx, WalletTx};

/// The id counters: the last id handed out of each kind (0 before any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastIds {
    /// Stocks.
    pub stock: u64,
    /// Stock transactions (order refs and fill records).
    pub stock_tx: u64,
    /// Wallet transactions.
    pub wallet_tx: u64,
}

/// Which counter a [`Change::LastId`] sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Counter {
    /// [`LastIds::stock`].
    Stock,
    /// [`LastIds::stock_tx`].
    StockTx,
    /// [`LastIds::wallet_tx`].
    WalletTx,
}

impl From<IdKind> for Counter {
    fn from(kind: IdKind) -> Self {
        match kind {
            IdKind::StockTx => Self::StockTx,
            IdKind::WalletTx => Self::WalletTx,
        }
    }
}

impl LastIds {
    /// The counter's value.
    pub fn get(&self, counter: Counter) -> u64 {
        match counter {
            Counter::Stock => self.stock,
            Counter::StockTx => self.stock_tx,
            Counter::WalletTx => self.wallet_tx,
        }
    }

    /// Sets the counter.
    pub fn set(&mut self, counter: Counter, value: u64) {
        match counter {
            Counter::Stock => self.stock = value,
            Counter::StockTx => self.stock_tx = value,
            Counter::WalletTx => self.wallet_tx = value,
        }
    }
}

/// The portfolio: what the journal's snapshot holds. Persistent collections (`imbl`): a clone
/// shares every node, so the journal's snapshot is taken under the lock in O(1) and encoded
/// elsewhere (a copy-on-write of the nodes touched afterwards is the price). Ordered maps for the
/// records (ids only grow): a hash map doubling would rehash every record ever made in one go.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// stock id -> name.
    pub stocks: OrdMap<u64, String>,
    /// stock name -> id.
    pub stock_names: HashMap<String, u64>,
    /// user -> (available, escrowed) cents.
    pub wallets: HashMap<u64, Balance>,
    /// (user, stock) -> (available, escrowed) lots; ordered so a user's holdings are a range.
    pub holdings: OrdMap<(u64, u64), Balance>,
    /// order ref -> escrow held for it; ordered so the orphan scan goes oldest first.
    pub reservations: OrdMap<u64, Reservation>,
    /// Stock transactions by id.
    pub stock_txs: OrdMap<u64, StockTx>,
    /// Wallet transactions by id.
    pub wallet_txs: OrdMap<u64, WalletTx>,
    /// user -> (is a wallet tx, id) of each record, in creation order (the list order).
    pub user_records: HashMap<u64, Vector<(bool, u64)>>,
    /// (user, client order id) -> the first order's ref.
    pub client_orders: HashMap<(u64, String), u64>,
    /// The id counters.
    pub last_ids: LastIds,
    /// shard -> the last outcome sequence applied.
    pub watermarks: OrdMap<u32, u64>,
}

/// One change of the state, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A new stock.
    Stock {
        /// Its id.
        stock_id: u64,
        /// Its name.
        name: String,
    },
    /// A wallet's new balance.
    Wallet {
        /// The owner.
        user_id: u64,
        /// (available, escrowed) cents.
        balance: Balance,
    },
    /// A holding's new lots.
    Holding {
        /// The owner.
        user_id: u64,
        /// The stock.
        stock_id: u64,
        /// (available, escrowed) lots.
        lots: Balance,
    },
    /// An order's reservation, or its end (`None`).
    Reservation {
        /// The order.
        order_ref: u64,
        /// What it still holds.
        reservation: Option<Reservation>,
    },
    /// A stock transaction's content (new or updated).
    StockTx(StockTx),
    /// A new wallet transaction.
    WalletTx(WalletTx),
    /// A record appended to its user's list.
    Listed {
        /// The user.
        user_id: u64,
        /// A wallet transaction (else a stock transaction).
        is_wallet_tx: bool,
        /// Its id.
        id: u64,
    },
    /// A client order id taken by an order.
    ClientOrder {
        /// The user.
        user_id: u64,
        /// The key.
        key: String,
        /// The order.
        order_ref: u64,
    },
    /// A counter's new value.
    LastId {
        /// Which one.
        counter: Counter,
        /// The last id handed out.
        value: u64,
    },
    /// A shard's new watermark.
    Watermark {
        /// The shard.
        shard: u32,
        /// Applied through this sequence.
        applied: u64,
    },
}

impl State {
    /// Applies `change`.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Stock { stock_id, name } => {
                self.stock_names.insert(name.clone(), stock_id);
                self.stocks.insert(stock_id, name);
            }
            Change::Wallet { user_id, balance } => {
                self.wallets.insert(user_id, balance);
            }
            Change::Holding {
                user_id,
                stock_id,
                lots,
            } => {
                self.holdings.insert((user_id, stock_id), lots);
            }
            Change::Reservation {
                order_ref,
                reservation: Some(reservation),
            } => {
                self.reservations.insert(order_ref, reservation);
            }
            Change::Reservation {
                order_ref,
                reservation: None,
            } => {
                self.reservations.remove(&order_ref);
            }
            Change::StockTx(record) => {
                self.stock_txs.insert(record.stock_tx_id, record);
            }
            Change::WalletTx(record) => {
                self.wallet_txs.insert(record.wallet_tx_id, record);
            }
            Change::Listed {
                user_id,
                is_wallet_tx,
                id,
            } => self
                .user_records
                .entry(user_id)
                .or_default()
                .push_back((is_wallet_tx, id)),
            Change::ClientOrder {
                user_id,
                key,
                order_ref,
            } => {
                self.client_orders.insert((user_id, key), order_ref);
            }
            Change::LastId { counter, value } => self.last_ids.set(counter, value),
            Change::Watermark { shard, applied } => {
                self.watermarks.insert(shard, applied);
            }
        }
    }
}
