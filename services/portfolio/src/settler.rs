//! The settler of one shard: consumes its outcomes in order, settles a batch in one durable
//! commit, then answers the waiting requests and publishes the shard's settled watermark. If a
//! settlement fails it stops (the batch's requests get an error); recovery at the next start
//! settles the outcomes in the shard's log after the watermark.

use std::sync::Arc;

use contracts::embedded::Delivery;
use tokio::sync::{mpsc, watch};

use crate::domain::ports::PortfolioStore;

/// Outcomes settled together at most.
const MAX_BATCH: usize = 512;

/// Runs until the delivery channel closes.
pub async fn run(
    store: Arc<dyn PortfolioStore>,
    mut deliveries: mpsc::Receiver<Delivery>,
    settled: watch::Sender<u64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while deliveries.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = batch.iter().map(|d| d.outcome.clone()).collect::<Vec<_>>();
        let last = outcomes.last().map(|o| o.sequence);
        if let Err(error) = store.settle(outcomes).await {
            // Crash-only: skipping these outcomes would lose them, retrying could repeat a
            // failure forever. Stop; the shard then stops too, and a restart settles them from
            // the shard's log.
            tracing::error!(?error, "settlement failed; this shard's settler stops");
            return;
        }
        for delivery in batch.drain(..) {
            if let Some(reply) = delivery.reply {
                let _ = reply.send(delivery.outcome);
            }
        }
        if let Some(last) = last {
            settled.send_replace(last);
        }
    }
}
