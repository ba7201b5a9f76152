//! `exchange`: parses the settings, starts telemetry, then runs the embedded exchange (no
//! subcommand) or one role of the distributed deployment, until Ctrl-C or SIGTERM.

use clap::Parser;
use exchange::config::Cli;

// Under place-order load glibc's malloc and free took about 8 % of the CPU (perf: the many small
// buffers of a request's short life); mimalloc's thread-local free lists cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init();
    let cli = Cli::parse();
    exchange::raise_open_files_limit();
    if let Some(role) = cli.role {
        tracing::info!(role = role.name(), "exchange role starting");
        return exchange::run_role(role).await;
    }
    let config = cli.embedded.into_config()?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %config.data_dir.display(), shards = config.shard_count, "exchange starting");
    exchange::run(config, listener, platform::shutdown::signal()).await
}
