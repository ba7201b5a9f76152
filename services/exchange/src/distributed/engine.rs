//! `exchange engine --shard K`: one matching shard, its books rebuilt from its own durable log
//! in the data directory, fed by its RabbitMQ queue.

use std::sync::Arc;

use engine::bus::ShardBusConfig;
use platform::clock::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{stop_signal, supervise};
use crate::config::EngineArgs;

/// Serves the shard until `stopped`; `GET /health` answers on `listener` once it is rebuilt.
pub async fn run(
    args: &EngineArgs,
    listener: TcpListener,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let shards = args.backends.shards;
    anyhow::ensure!(
        args.shard < shards,
        "--shard {} is not below --shards {shards}",
        args.shard
    );
    std::fs::create_dir_all(&args.data_dir)?;
    crate::secret::check_shard_count(&args.data_dir, shards)?;
    let path = args.data_dir.join(format!("shard-{}", args.shard));
    let clock: SharedClock = Arc::new(SystemClock);
    let bus = ShardBusConfig {
        url: args.backends.amqp_url.clone(),
        prefix: args.backends.amqp_prefix.clone(),
        shard_count: shards,
    };
    let index = args.shard;
    // Rebuild once before answering health, so a start with a broken log fails loudly.
    let first = engine::recovery::open(index, &path, clock.clone())?;
    let mut first = Some(first);
    let serving = tokio::spawn(supervise::restarting(
        "engine",
        stopped.clone(),
        move |stopped| {
            let reopened = first
                .take()
                .map_or_else(|| engine::recovery::open(index, &path, clock.clone()), Ok);
            let bus = bus.clone();
            async move { engine::bus::serve(&bus, reopened?, stop_signal(stopped)).await }
        },
    ));
    let app = crate::with_health(axum::Router::new());
    let served = crate::serve(listener, app, stop_signal(stopped)).await;
    let _ = serving.await;
    served
}
