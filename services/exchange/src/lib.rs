//! The exchange in one process (embedded mode): auth, portfolio, order and N matching shards,
//! wired over in-process channels, with one redb file per store in the data directory.
//!
//! Start-up order matters for recovery: open the stores, rebuild every shard's books (snapshot +
//! replay, hash checked), settle every outcome a shard committed but settlement had not applied
//! (its outbox after the portfolio's watermark), release the escrow of orders no shard ever
//! sequenced, and only then accept requests (`GET /health` answers 200 from then on).

pub mod config;
mod secret;
mod wiring;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use platform::envelope::ApiOk;
use tokio::net::TcpListener;

pub use config::Config;

/// Raises the open-file limit to the hard limit (thousands of keep-alive clients).
pub fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open file limit"),
        Err(error) => tracing::warn!(%error, "could not raise the open file limit"),
    }
}

/// Runs the exchange on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let roles = wiring::start(&config).await?;
    let app = app(&roles);
    tracing::info!(addr = %listener.local_addr()?, "accepting requests");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("stopped");
    Ok(())
}

fn app(roles: &wiring::Roles) -> Router {
    let routes = Router::new()
        .route("/health", get(|| async { ApiOk(()) }))
        .merge(auth::router(&roles.auth))
        .merge(portfolio::router(&roles.portfolio))
        .merge(order::router(&roles.order));
    platform::fallback::with_fallbacks(routes)
        .layer(DefaultBodyLimit::max(platform::json_body::MAX_BODY_BYTES))
}
