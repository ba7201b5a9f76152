//! The orphan sweeper of the distributed mode. The order role reserves escrow, then publishes
//! the place; if it dies between the two, the reservation would stay pending forever (the
//! embedded mode releases such orphans at start-up, when nothing can be in flight; here
//! something always can). So every [`SweeperConfig::every`], the portfolio role lists the
//! reservations pending longer than [`SweeperConfig::orphan_after`] and publishes an
//! [`ExpireOrder`] for each to the shard that owns its stock (the order role's route: persistent,
//! mandatory, confirmed; no reply wanted). The shard decides, settlement applies:
//! - the place was published before the expire: the shard queue is FIFO, so the place is
//!   sequenced first and the expire is rejected (settlement does nothing with it);
//! - it never was: the expire is accepted, settlement releases the reservation, and a place
//!   that still comes later (a stalled, not dead, order process) is answered with the expire's
//!   outcome and never placed (its HTTP request gets a 503).
//!
//! Several portfolio replicas sweeping at once, or a sweep repeated before the first expire was
//! settled, only sends copies: a copy of an accepted expire is rejected (the ref is sequenced).
//! A sweeper does not send the same order again within `orphan_after`, so a stopped engine
//! does not collect a new copy every sweep.
//!
//! Clocks: a reservation records the reserving process's wall clock, the sweeper compares with
//! its own. Skew only moves when an orphan is expired; an early expire of a stalled order is
//! still consistent (see above).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use contracts::amqp::Topology;
use contracts::{ExpireOrder, ShardCommand, shard_of};
use platform::amqp::{self, Publisher, Route};

use crate::domain::ports::PortfolioStore;

/// The most orphans one sweep expires (the rest wait for the next sweep).
pub const SWEEP_LIMIT: usize = 1_000;

/// What the sweeper needs.
#[derive(Debug, Clone)]
pub struct SweeperConfig {
    /// The AMQP URL.
    pub url: String,
    /// The topology prefix (`EXCHANGE_AMQP_PREFIX`).
    pub prefix: String,
    /// Shards `0..shard_count` (`stock_id % shard_count`).
    pub shard_count: u32,
    /// A reservation pending longer than this is an orphan (`EXCHANGE_ORPHAN_AFTER`).
    pub orphan_after: Duration,
    /// The pause between two sweeps.
    pub every: Duration,
}

impl SweeperConfig {
    /// The pause between sweeps for `orphan_after`: half of it, between 100 ms and 5 s.
    pub fn default_every(orphan_after: Duration) -> Duration {
        (orphan_after / 2).clamp(Duration::from_millis(100), Duration::from_secs(5))
    }
}

/// Sweeps until `shutdown` resolves (`Ok`) or publishing fails (`Err`: the connection is gone;
/// the caller restarts it). The connection is closed before it returns.
pub async fn run_sweeper(
    config: &SweeperConfig,
    store: Arc<dyn PortfolioStore>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let connection = amqp::connect(&config.url, "portfolio-sweeper").await?;
    let result = async {
        let publisher = Publisher::open(&connection).await?;
        let topology = Topology::new(config.prefix.clone());
        amqp::declare_topology(publisher.channel(), &topology, config.shard_count).await?;
        let mut sweeper = Sweeper {
            publisher,
            topology,
            shard_count: config.shard_count.max(1),
            orphan_after: config.orphan_after,
            sent: HashMap::new(),
        };
        let mut ticks = tokio::time::interval(config.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                _ = ticks.tick() => {}
            }
            sweeper.sweep(store.as_ref()).await?;
        }
    }
    .await;
    if let Err(error) = &result {
        tracing::error!(?error, "the orphan sweeper stopped");
    }
    amqp::close(&connection, "sweeper stops").await;
    result
}

/// One sweeper's state.
struct Sweeper {
    publisher: Publisher,
    topology: Topology,
    shard_count: u32,
    orphan_after: Duration,
    /// Orders expired recently -> when: not sent again within `orphan_after`. A map for point
    /// lookups only; pruned every sweep.
    sent: HashMap<u64, Instant>,
}

impl Sweeper {
    /// Expires the orphans of `store` once; returns how many expires it published.
    async fn sweep(&mut self, store: &dyn PortfolioStore) -> anyhow::Result<usize> {
        let Some(cutoff) = SystemTime::now().checked_sub(self.orphan_after) else {
            return Ok(0);
        };
        let orphans = match store.pending_reservations(cutoff, SWEEP_LIMIT).await {
            Ok(orphans) => orphans,
            Err(error) => {
                // The store is the one that failed (MongoDB away): try again next sweep.
                tracing::warn!(?error, "listing pending reservations failed");
                return Ok(0);
            }
        };
        let now = Instant::now();
        let orphan_after = self.orphan_after;
        self.sent
            .retain(|_, at| now.saturating_duration_since(*at) < orphan_after);
        let exchange = self.topology.commands_exchange();
        let mut confirms = Vec::new();
        for orphan in orphans {
            if self.sent.contains_key(&orphan.order_ref) {
                continue;
            }
            let shard = shard_of(orphan.stock_id, self.shard_count);
            let key = Topology::command_key(shard);
            let route = Route {
                exchange: &exchange,
                routing_key: &key,
                mandatory: true,
            };
            let command = ShardCommand::Expire(ExpireOrder {
                order_ref: orphan.order_ref,
                user_id: orphan.user_id,
                stock_id: orphan.stock_id,
            });
            let body = contracts::amqp::encode(&command)?;
            let pending = self
                .publisher
                .send(route, &body, amqp::persistent_properties())
                .await
                .with_context(|| format!("expiring order {}", orphan.order_ref))?;
            confirms.push((orphan.order_ref, pending));
        }
        let expired = confirms.len();
        for (order_ref, confirm) in confirms {
            confirm.confirmed().await?;
            self.sent.insert(order_ref, now);
        }
        if expired > 0 {
            tracing::warn!(
                expired,
                older_than = ?self.orphan_after,
                "sent expires for reservations no place followed"
            );
        }
        Ok(expired)
    }
}
