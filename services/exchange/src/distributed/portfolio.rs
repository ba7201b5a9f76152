//! `exchange portfolio`: the wallet, holding and record routes, and the settlement of every
//! shard's outcomes (one consumer per shard, single active across replicas).

use portfolio::PortfolioDeps;
use portfolio::bus::SettlementBusConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{backends, stop_signal, supervise};
use crate::config::Backends;

/// Serves the portfolio routes and settles outcomes until `stopped`.
pub async fn run(
    backends: &Backends,
    listener: TcpListener,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
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
    let settlement = tokio::spawn(supervise::restarting(
        "settlement",
        stopped.clone(),
        move |stopped| {
            let bus = bus.clone();
            let store = store.clone();
            async move { portfolio::bus::run_settlement(&bus, store, stop_signal(stopped)).await }
        },
    ));
    let app = crate::with_health(portfolio::router(&deps));
    let served = crate::serve(listener, app, stop_signal(stopped)).await;
    settlement.abort();
    served
}
