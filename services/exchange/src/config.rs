//! Settings, by flag or environment variable (`exchange --help` lists both).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The exchange: every role (auth, portfolio, order, matching shards) in one process, with an
/// embedded durable store in the data directory.
#[derive(Debug, Parser)]
#[command(name = "exchange", version, about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "EXCHANGE_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Directory of the durable store (created if missing).
    #[arg(long, env = "EXCHANGE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Matching shards (a stock goes to shard `stock_id % shards`); fixed per data directory.
    #[arg(long, env = "EXCHANGE_SHARDS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub shards: u32,
    /// bcrypt cost factor for passwords.
    #[arg(long, env = "EXCHANGE_BCRYPT_COST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,
    /// HS256 secret for tokens; without it a random one is generated on first start and kept in
    /// the data directory (`jwt-secret`).
    #[arg(long, env = "EXCHANGE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Token lifetime: `90s`, `30m`, `24h`, `7d`, `1h 30m`.
    #[arg(long, env = "EXCHANGE_TOKEN_TTL", default_value = "24h", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,
}

/// The settings `run` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (main binds it; tests bind port 0 themselves).
    pub listen: SocketAddr,
    /// Store directory.
    pub data_dir: PathBuf,
    /// Shard count.
    pub shard_count: u32,
    /// bcrypt cost.
    pub bcrypt_cost: u32,
    /// Explicit JWT secret, if any.
    pub jwt_secret: Option<String>,
    /// Token lifetime.
    pub token_ttl: Duration,
}

impl Cli {
    /// The settings.
    pub fn into_config(self) -> anyhow::Result<Config> {
        Ok(Config {
            listen: self.listen,
            data_dir: self.data_dir,
            shard_count: self.shards,
            bcrypt_cost: self.bcrypt_cost,
            jwt_secret: self.jwt_secret.filter(|s| !s.is_empty()),
            token_ttl: self.token_ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ttl_takes_human_durations_and_defaults_to_a_day() {
        let cli = Cli::try_parse_from(["exchange", "--token-ttl", "90m"]).expect("parses");
        assert_eq!(cli.token_ttl, Duration::from_secs(90 * 60));
        let cli = Cli::try_parse_from(["exchange"]).expect("parses");
        assert_eq!(cli.token_ttl, Duration::from_secs(86_400));
        assert!(Cli::try_parse_from(["exchange", "--token-ttl", "soon"]).is_err());
    }
}
