//! `exchange portfolio`: the wallet, holding and record routes, the settlement of every shard's
//! outcomes (one consumer per shard, single active across replicas), and the orphan sweeper
//! (expires reservations pending longer than `--orphan-after`; see `portfolio::bus::sweeper`).

use portfolio::PortfolioDeps;
use portfolio::bus::{SettlementBusConfig, SweeperConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{backends, stop_signal, supervise};
use crate::config::PortfolioArgs;

/// Serves the portfolio routes, settles outcomes and sweeps orphans until `stopped`.
pub async fn run(
    args: &PortfolioArgs,
    listener: TcpListener,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let backends = &args.service.backends;
    let (_, authenticator) = backends::users(backends).await?;
    let store = backends::portfolio_store(backends).await?;
    let deps = PortfolioDeps {
        store: store.clone(),
        authenticator,
    };
    let bus = SettlementBusConfig {
        url: backends.amqp_url.clone(),
        prefix: backends.amqp_prefix.clone(),
        shard_count: backends.shards,
    };
    let settlement = {
        let store = store.clone();
        tokio::spawn(supervise::restarting(
            "settlement",
            stopped.clone(),
            move |stopped| {
                let bus = bus.clone();
                let store = store.clone();
                async move { portfolio::bus::run_settlement(&bus, store, stop_signal(stopped)).await }
            },
        ))
    };
    let sweeper_config = SweeperConfig {
        url: backends.amqp_url.clone(),
        prefix: backends.amqp_prefix.clone(),
        shard_count: backends.shards,
        orphan_after: args.orphan_after,
        every: SweeperConfig::default_every(args.orphan_after),
    };
    let sweeper = tokio::spawn(supervise::restarting(
        "orphan sweeper",
        stopped.clone(),
        move |stopped| {
            let config = sweeper_config.clone();
            let store = store.clone();
            async move { portfolio::bus::run_sweeper(&config, store, stop_signal(stopped)).await }
        },
    ));
    let app = crate::with_health(portfolio::router(&deps));
    let served = crate::serve(listener, app, stop_signal(stopped)).await;
    settlement.abort();
    sweeper.abort();
    served
}
