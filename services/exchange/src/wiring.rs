//! Opens the stores, recovers, and connects the roles over in-process channels.

use std::path::Path;
use std::sync::Arc;

use auth::{AuthConfig, AuthDeps};
use engine::{EngineConfig, Shard};
use order::OrderDeps;
use order::bus::ChannelRouter;
use platform::clock::{SharedClock, SystemClock};
use platform::group_commit::GroupCommitter;
use portfolio::{PortfolioConfig, PortfolioDeps, PortfolioStore};
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::secret;

/// Commands queued per shard at most.
const SHARD_QUEUE: usize = 8192;

/// The connected roles.
pub struct Roles {
    pub auth: AuthDeps,
    pub portfolio: PortfolioDeps,
    pub order: OrderDeps,
}

fn committer(data_dir: &Path, name: &str) -> anyhow::Result<GroupCommitter> {
    let database = redb::Database::create(data_dir.join(format!("{name}.redb")))?;
    Ok(GroupCommitter::start(Arc::new(database), name)?)
}

/// Refuses a data directory whose portfolio an earlier version kept in redb: starting on it
/// would silently start from an empty portfolio.
fn refuse_earlier_layout(data_dir: &Path) -> anyhow::Result<()> {
    let earlier = data_dir.join("portfolio.redb");
    anyhow::ensure!(
        !earlier.exists(),
        "{} was written by an earlier version (the portfolio in redb); start from a fresh data directory",
        earlier.display()
    );
    Ok(())
}

/// Opens everything, recovers, starts shards and settlers.
pub async fn start(config: &Config) -> anyhow::Result<Roles> {
    std::fs::create_dir_all(&config.data_dir)?;
    secret::check_shard_count(&config.data_dir, config.shard_count)?;
    let jwt_secret = secret::load_or_create(&config.data_dir, config.jwt_secret.as_deref())?;
    let clock: SharedClock = Arc::new(SystemClock);
    let auth_config = AuthConfig {
        jwt_secret,
        bcrypt_cost: config.bcrypt_cost,
        token_ttl: config.token_ttl,
    };
    let auth = auth::connect(
        &auth_config,
        committer(&config.data_dir, "auth")?,
        clock.clone(),
    )?;
    refuse_earlier_layout(&config.data_dir)?;
    let portfolio = portfolio::connect(
        &PortfolioConfig,
        &config.data_dir,
        auth.authenticator.clone(),
    )?;
    let engine_config = EngineConfig {
        data_dir: config.data_dir.clone(),
        shard_count: config.shard_count,
    };
    let shards = engine::connect(&engine_config, &clock)?;
    recover(&shards, portfolio.store.as_ref()).await?;
    let mut senders = Vec::with_capacity(shards.len());
    for shard in shards {
        senders.push(start_shard(shard, &portfolio).await?);
    }
    let order = OrderDeps {
        portfolio: Arc::clone(&portfolio.store),
        shards: Arc::new(ChannelRouter::new(senders)),
        authenticator: auth.authenticator.clone(),
        buyer_locks: Arc::default(),
    };
    Ok(Roles {
        auth,
        portfolio,
        order,
    })
}

/// Settles what the shards committed but settlement missed, then frees orphaned escrow.
async fn recover(shards: &[Shard], store: &dyn PortfolioStore) -> anyhow::Result<()> {
    for shard in shards {
        let unsettled = shard.unsettled(store.applied_through(shard.index).await?);
        if !unsettled.is_empty() {
            tracing::info!(
                shard = shard.index,
                outcomes = unsettled.len(),
                "settling outcomes after a restart"
            );
            store.settle(unsettled).await?;
        }
    }
    let released = store.release_orphans().await?;
    if released > 0 {
        tracing::info!(released, "released escrow of orders no shard sequenced");
    }
    Ok(())
}

/// Connects one shard to its settler and starts both.
async fn start_shard(
    shard: Shard,
    portfolio: &PortfolioDeps,
) -> anyhow::Result<contracts::embedded::ShardSender> {
    let (inputs, input_receiver) = mpsc::channel(SHARD_QUEUE);
    let (deliveries, delivery_receiver) = mpsc::channel(SHARD_QUEUE);
    let applied = portfolio.store.applied_through(shard.index).await?;
    let (settled, settled_receiver) = watch::channel(applied);
    portfolio::run_background(portfolio, delivery_receiver, settled);
    engine::run_background(shard, input_receiver, deliveries, settled_receiver)?;
    Ok(inputs)
}
