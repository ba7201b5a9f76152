//! The settler of one shard: consumes its outcomes in order and settles a batch in one commit.
//! It answers the waiting requests as soon as the settlement is visible to reads (the shard
//! logged the outcomes durably before it handed them over, so a crash before the settlement is
//! durable is repaired from that log at the next start), and publishes the shard's settled
//! watermark only once the settlement is durable: that watermark lets the shard forget the
//! outcomes. If a settlement fails it stops (the batch's requests get an error); recovery at
//! the next start settles the outcomes in the shard's log after the durable watermark.
//!
//! Waiting for durability and publishing the watermark is a second task's work, fed in order:
//! the settler goes on with the next batch meanwhile, so no answer waits for the journal round
//! of the batch before it.

use std::sync::Arc;

use contracts::embedded::Delivery;
use tokio::sync::{mpsc, watch};

use crate::domain::ports::{PortfolioStore, SettleReceipt};

/// Outcomes settled together at most.
const MAX_BATCH: usize = 512;
/// Settled batches waiting for durability at most (the settler waits beyond that).
const MAX_UNDURABLE: usize = 64;

/// Runs until the delivery channel closes.
pub async fn run(
    store: Arc<dyn PortfolioStore>,
    mut deliveries: mpsc::Receiver<Delivery>,
    settled: watch::Sender<u64>,
) {
    let (settled_batches, undurable) = mpsc::channel(MAX_UNDURABLE);
    let publisher = tokio::spawn(publish_when_durable(Arc::clone(&store), undurable, settled));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while deliveries.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = batch.iter().map(|d| d.outcome.clone()).collect::<Vec<_>>();
        let last = outcomes.last().map(|o| o.sequence);
        let receipt = match store.settle_visible(outcomes).await {
            Ok(receipt) => receipt,
            Err(error) => return stop(&error),
        };
        for delivery in batch.drain(..) {
            if let Some(reply) = delivery.reply {
                let _ = reply.send(delivery.outcome);
            }
        }
        if settled_batches.send((receipt, last)).await.is_err() {
            // The publisher stopped on a failed sync (it logged it).
            return;
        }
    }
    drop(settled_batches);
    let _ = publisher.await;
}

/// Publishes each settled batch's last sequence once its settlement is durable, in order.
async fn publish_when_durable(
    store: Arc<dyn PortfolioStore>,
    mut undurable: mpsc::Receiver<(SettleReceipt, Option<u64>)>,
    settled: watch::Sender<u64>,
) {
    while let Some((receipt, last)) = undurable.recv().await {
        if let Err(error) = store.settled_durable(receipt).await {
            return stop(&error);
        }
        if let Some(last) = last {
            settled.send_replace(last);
        }
    }
}

/// Crash-only: skipping a batch would lose its outcomes, retrying could repeat a failure
/// forever. Stop; the shard then stops too, and a restart settles them from the shard's log.
fn stop(error: &anyhow::Error) {
    tracing::error!(?error, "settlement failed; this shard's settler stops");
}

#[cfg(test)]
mod tests;
