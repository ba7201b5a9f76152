//! The embedded store rebuilt from its journal: after any scenario, reopening the data
//! directory gives the same balances, holdings, lists, reservations and watermarks.

use std::time::SystemTime;

use super::{BUYER, SELLER, ok};
use crate::domain::ports::{Holding, PendingOrder, PortfolioStore};
use crate::domain::records::{StockTx, WalletTx};
use crate::store::JournalPortfolio;

/// Everything a client or the engine can read of the two test users.
#[derive(Debug, PartialEq)]
struct View {
    balances: Vec<u64>,
    holdings: Vec<Vec<Holding>>,
    stock_txs: Vec<Vec<StockTx>>,
    wallet_txs: Vec<Vec<WalletTx>>,
    stocks: Vec<(u64, String)>,
    pending: Vec<PendingOrder>,
    applied_through: u64,
}

async fn view(store: &dyn PortfolioStore) -> View {
    let mut view = View {
        balances: Vec::new(),
        holdings: Vec::new(),
        stock_txs: Vec::new(),
        wallet_txs: Vec::new(),
        stocks: store.stocks().await.unwrap_or_else(|e| panic!("{e}")),
        pending: store
            .pending_reservations(SystemTime::now(), 1000)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        applied_through: store
            .applied_through(0)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    };
    for user in [SELLER, BUYER] {
        view.balances
            .push(store.balance(user).await.unwrap_or_else(|e| panic!("{e}")));
        view.holdings
            .push(store.holdings(user).await.unwrap_or_else(|e| panic!("{e}")));
        view.stock_txs.push(
            store
                .stock_txs(user)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
        view.wallet_txs.push(
            store
                .wallet_txs(user)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    view
}

fn open(dir: &std::path::Path) -> JournalPortfolio {
    JournalPortfolio::open(dir).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

/// A journaled store in a fresh temporary directory.
pub(super) fn journaled() -> (tempfile::TempDir, JournalPortfolio) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(dir.path());
    (dir, store)
}

/// After a scenario on `store` (and, with `snapshot`, a snapshot and one more change), closes
/// it, reopens the directory and compares what both show.
pub(super) async fn assert_reopens_the_same(
    dir: tempfile::TempDir,
    store: JournalPortfolio,
    snapshot: bool,
) {
    if snapshot {
        store.snapshot_now().unwrap_or_else(|e| panic!("{e}"));
        ok(store.deposit(BUYER, 7).await);
    }
    let before = view(&store).await;
    assert!(!before.stocks.is_empty(), "the scenario wrote something");
    drop(store);
    let reopened = open(dir.path());
    assert_eq!(view(&reopened).await, before);
}

/// Copies every file of `from` into a fresh directory: the disk as a crash would leave it.
fn copy_of(from: &std::path::Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let target = to.path().join(path.file_name().unwrap_or_default());
        std::fs::copy(&path, &target).unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
    }
    to
}

/// The settler answers once a settlement is visible, before it is durable. A crash in between
/// loses it; start-up then settles the same outcomes again from the shard's log, and that must
/// give exactly what the clients already saw.
#[tokio::test]
async fn a_settlement_lost_before_it_was_durable_is_settled_again_the_same() {
    let (dir, store) = journaled();
    let outcomes = super::reserve_a_sell_and_a_buy_that_trade(&store).await;
    let before_the_settlement = copy_of(dir.path());

    let receipt = store
        .settle_visible(outcomes.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = view(&store).await;
    assert_eq!(seen.applied_through, 2, "reads see the settlement at once");
    store
        .settled_durable(receipt)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    drop(store);
    assert_eq!(view(&open(dir.path())).await, seen, "and it is durable");

    let crashed = open(before_the_settlement.path());
    assert_eq!(
        crashed.applied_through(0).await.ok(),
        Some(0),
        "the copy lost the settlement"
    );
    crashed
        .settle(outcomes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(view(&crashed).await, seen);
}
