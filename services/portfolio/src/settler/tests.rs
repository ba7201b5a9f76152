//! The settler answers a batch while the batch before it is still waiting to be durable, and
//! publishes each watermark only once its settlement is durable, in order.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use contracts::{CancelOrder, CommandResult, ShardCommand, ShardOutcome};
use tokio::sync::{oneshot, watch};

use super::*;
use crate::domain::ports::{Decision, Escrow, EscrowRequest, Holding, PendingOrder};
use crate::domain::records::{StockTx, WalletTx};

/// A store whose settlements become durable only when the test says so: receipt `n` is the
/// `n`th settlement, durable once `durable_through` reaches `n`.
struct GatedStore {
    settled: Mutex<Vec<Vec<u64>>>,
    durable_through: watch::Sender<u64>,
}

const NOT_USED: &str = "the settler does not call this";

#[async_trait]
impl PortfolioStore for GatedStore {
    async fn settle_visible(&self, outcomes: Vec<ShardOutcome>) -> anyhow::Result<SettleReceipt> {
        let mut settled = self.settled.lock().unwrap_or_else(|e| e.into_inner());
        settled.push(outcomes.iter().map(|o| o.sequence).collect());
        Ok(SettleReceipt(Some(settled.len() as u64)))
    }
    async fn settled_durable(&self, receipt: SettleReceipt) -> anyhow::Result<()> {
        let ticket = receipt.0.unwrap_or(0);
        let mut durable = self.durable_through.subscribe();
        durable.wait_for(|through| *through >= ticket).await?;
        Ok(())
    }
    async fn settle(&self, _: Vec<ShardOutcome>) -> anyhow::Result<()> {
        anyhow::bail!(NOT_USED)
    }
    async fn create_stock(&self, _: String) -> Decision<u64> {
        anyhow::bail!(NOT_USED)
    }
    async fn add_shares(&self, _: u64, _: u64, _: u64) -> Decision<()> {
        anyhow::bail!(NOT_USED)
    }
    async fn deposit(&self, _: u64, _: u64) -> Decision<()> {
        anyhow::bail!(NOT_USED)
    }
    async fn reserve(&self, _: EscrowRequest) -> Decision<Escrow> {
        anyhow::bail!(NOT_USED)
    }
    async fn release_orphans(&self) -> anyhow::Result<usize> {
        anyhow::bail!(NOT_USED)
    }
    async fn pending_reservations(
        &self,
        _: SystemTime,
        _: usize,
    ) -> anyhow::Result<Vec<PendingOrder>> {
        anyhow::bail!(NOT_USED)
    }
    async fn applied_through(&self, _: u32) -> anyhow::Result<u64> {
        anyhow::bail!(NOT_USED)
    }
    async fn balance(&self, _: u64) -> anyhow::Result<u64> {
        anyhow::bail!(NOT_USED)
    }
    async fn holdings(&self, _: u64) -> anyhow::Result<Vec<Holding>> {
        anyhow::bail!(NOT_USED)
    }
    async fn stocks(&self) -> anyhow::Result<Vec<(u64, String)>> {
        anyhow::bail!(NOT_USED)
    }
    async fn stock_exists(&self, _: u64) -> anyhow::Result<bool> {
        anyhow::bail!(NOT_USED)
    }
    async fn has_reservation(&self, _: u64) -> anyhow::Result<bool> {
        anyhow::bail!(NOT_USED)
    }
    async fn stock_tx(&self, _: u64) -> anyhow::Result<Option<StockTx>> {
        anyhow::bail!(NOT_USED)
    }
    async fn stock_txs(&self, _: u64) -> anyhow::Result<Vec<StockTx>> {
        anyhow::bail!(NOT_USED)
    }
    async fn wallet_txs(&self, _: u64) -> anyhow::Result<Vec<WalletTx>> {
        anyhow::bail!(NOT_USED)
    }
}

fn outcome(sequence: u64) -> ShardOutcome {
    ShardOutcome {
        version: contracts::CONTRACT_VERSION,
        shard: 0,
        sequence,
        timestamp_ns: 0,
        command: ShardCommand::Cancel(CancelOrder {
            order_ref: sequence,
            user_id: 1,
            stock_id: 0,
        }),
        result: CommandResult::Accepted,
        fills: Vec::new(),
        ended: Vec::new(),
    }
}

/// Delivers `sequence` and waits for its answer (a bounded wait: a settler that held answers
/// back behind durability would fail here, not hang).
async fn answered(deliveries: &mpsc::Sender<Delivery>, sequence: u64) -> ShardOutcome {
    let (reply, answer) = oneshot::channel();
    let delivery = Delivery {
        outcome: outcome(sequence),
        reply: Some(reply),
    };
    deliveries
        .send(delivery)
        .await
        .unwrap_or_else(|_| panic!("the settler stopped"));
    tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .unwrap_or_else(|_| {
            panic!("{sequence} was not answered while earlier batches were not durable")
        })
        .unwrap_or_else(|_| panic!("the settler dropped the reply of {sequence}"))
}

#[tokio::test]
async fn answers_go_on_while_earlier_settlements_wait_and_watermarks_follow_durability() {
    let (durable_through, _) = watch::channel(0);
    let store = Arc::new(GatedStore {
        settled: Mutex::new(Vec::new()),
        durable_through: durable_through.clone(),
    });
    let (deliveries, delivery_receiver) = mpsc::channel(16);
    let (settled, mut watermark) = watch::channel(0);
    let settler = tokio::spawn(run(store.clone(), delivery_receiver, settled));

    assert_eq!(answered(&deliveries, 1).await.sequence, 1);
    assert_eq!(
        answered(&deliveries, 2).await.sequence,
        2,
        "not held behind batch 1"
    );
    assert_eq!(
        *store.settled.lock().unwrap_or_else(|e| e.into_inner()),
        vec![vec![1], vec![2]],
        "settled in order, a batch each"
    );
    assert_eq!(*watermark.borrow(), 0, "nothing durable, nothing published");

    durable_through.send_replace(1);
    let published = tokio::time::timeout(Duration::from_secs(10), watermark.wait_for(|w| *w >= 1))
        .await
        .unwrap_or_else(|_| panic!("batch 1 became durable but its watermark was not published"))
        .map(|w| *w);
    assert_eq!(published.ok(), Some(1), "batch 2 is not durable yet");

    durable_through.send_replace(2);
    let published = tokio::time::timeout(Duration::from_secs(10), watermark.wait_for(|w| *w >= 2))
        .await
        .unwrap_or_else(|_| panic!("batch 2 became durable but its watermark was not published"))
        .map(|w| *w);
    assert_eq!(published.ok(), Some(2));

    drop(deliveries);
    tokio::time::timeout(Duration::from_secs(10), settler)
        .await
        .unwrap_or_else(|_| panic!("the settler did not stop when its deliveries ended"))
        .unwrap_or_else(|e| panic!("the settler panicked: {e}"));
}
