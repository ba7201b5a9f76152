//! The exchange in one process (embedded mode): auth, portfolio, order and N matching shards,
//! wired over in-process channels, with one redb file per store and one journal per shard in the
//! data directory.
//!
//! Start-up order matters for recovery: open the stores, rebuild every shard's books (snapshot +
//! replay, hash checked), settle every outcome a shard committed but settlement had not applied
//! (its logged outcomes after the portfolio's watermark), release the escrow of orders no shard ever
//! sequenced, and only then accept requests (`GET /health` answers 200 from then on).

pub mod config;
mod distributed;
mod secret;
#[cfg(test)]
mod tests;
mod wiring;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use platform::envelope::ApiOk;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::Config;

/// Raises the open-file limit to the hard limit (thousands of keep-alive clients).
pub fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open file limit"),
        Err(error) => tracing::warn!(%error, "could not raise the open file limit"),
    }
}

pub use distributed::run as run_role;

/// How long in-flight requests may finish after the shutdown signal. Keep-alive clients that go
/// on sending would otherwise hold the process forever; every acknowledged change is already
/// durable, so stopping after the grace loses nothing.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the exchange on `listener` until `shutdown` resolves (plus at most the grace period).
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let roles = wiring::start(&config).await?;
    serve(listener, app(&roles), shutdown).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for at most the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "accepting requests");
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let mut graceful = stopped.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    let mut deadline = stopped;
    tokio::select! {
        served = server => served?,
        _ = async move {
            let _ = deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("connections still open after the grace period; stopping anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// `routes` with `GET /health` and the envelope fallbacks.
pub fn with_health(routes: Router) -> Router {
    platform::fallback::with_fallbacks(
        Router::new()
            .route("/health", get(|| async { ApiOk(()) }))
            .merge(routes),
    )
}

fn app(roles: &wiring::Roles) -> Router {
    with_health(
        auth::router(&roles.auth)
            .merge(portfolio::router(&roles.portfolio))
            .merge(order::router(&roles.order)),
    )
}
