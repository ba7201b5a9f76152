//! `exchange`: parses the settings, starts telemetry, binds, serves until Ctrl-C or SIGTERM.

use clap::Parser;
use exchange::config::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init();
    let cli = Cli::parse();
    let config = cli.embedded.into_config()?;
    exchange::raise_open_files_limit();
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %config.data_dir.display(), shards = config.shard_count, "exchange starting");
    exchange::run(config, listener, platform::shutdown::signal()).await
}
