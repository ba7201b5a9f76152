//! The distributed deployment: one role per process, finding the others through MongoDB, Redis
//! and RabbitMQ (`exchange auth | portfolio | order | engine --shard K`).
//!
//! Every role serves `GET /health` and stops on Ctrl-C or SIGTERM. Background loops (a shard's
//! bus, settlement) that lose the broker are restarted in process with a growing pause: nothing
//! is lost meanwhile, because unacknowledged messages go back to their queue and every consumer
//! is idempotent.

mod auth;
mod backends;
mod engine;
mod order;
mod portfolio;
mod reconnecting_router;
mod supervise;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Role, ports};

/// Runs `role` until Ctrl-C or SIGTERM.
pub async fn run(role: Role) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        platform::shutdown::signal().await;
        let _ = stop.send(true);
    });
    match role {
        Role::Auth(args) => {
            let listener = bind(args.service.listen_or(ports::AUTH)).await?;
            auth::run(&args, listener, stopped).await
        }
        Role::Portfolio(args) => {
            let listener = bind(args.service.listen_or(ports::PORTFOLIO)).await?;
            portfolio::run(&args, listener, stopped).await
        }
        Role::Order(args) => {
            let listener = bind(args.listen_or(ports::ORDER)).await?;
            order::run(&args.backends, listener, stopped).await
        }
        Role::Engine(args) => {
            let listener = bind(args.listen_address()).await?;
            engine::run(&args, listener, stopped).await
        }
    }
}

async fn bind(address: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {address}: {error}"))
}

/// Resolves once `stopped` turns true (or its sender is gone).
pub(crate) async fn stop_signal(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
