//! `exchange order`: order entry (escrow in the portfolio store, routing to the shard over
//! RabbitMQ, the answer after settlement), cancels and prices.

use order::OrderDeps;
use order::bus::rabbit::{AmqpRouterConfig, REPLY_TIMEOUT};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::reconnecting_router::ReconnectingRouter;
use super::{backends, stop_signal};
use crate::config::Backends;

/// Serves the order routes until `stopped`.
pub async fn run(
    backends: &Backends,
    listener: TcpListener,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (_, authenticator) = backends::users(backends).await?;
    let store = backends::portfolio_store(backends).await?;
    let router_config = AmqpRouterConfig {
        url: backends.amqp_url.clone(),
        prefix: backends.amqp_prefix.clone(),
        shard_count: backends.shards,
        reply_timeout: REPLY_TIMEOUT,
    };
    let shards = ReconnectingRouter::connect(router_config, stopped.clone()).await?;
    let deps = OrderDeps {
        portfolio: store,
        shards,
        authenticator,
        buyer_locks: std::sync::Arc::default(),
    };
    let app = crate::with_health(order::router(&deps));
    crate::serve(listener, app, stop_signal(stopped)).await
}
