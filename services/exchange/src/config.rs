//! Settings, by flag or environment variable (`exchange --help` and `exchange <role> --help`
//! list both). No subcommand: every role in one process (embedded). A subcommand: one role of
//! the distributed deployment, which finds the others through MongoDB, Redis and RabbitMQ.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The exchange. Without a subcommand: every role (auth, portfolio, order, matching shards) in
/// one process, with an embedded durable store in the data directory. With one: that role alone.
#[derive(Debug, Parser)]
#[command(
    name = "exchange",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// One role of the distributed deployment (omit for the embedded exchange).
    #[command(subcommand)]
    pub role: Option<Role>,
    /// Settings of the embedded exchange.
    #[command(flatten)]
    pub embedded: EmbeddedArgs,
}

/// The roles of the distributed deployment.
#[derive(Debug, Subcommand)]
pub enum Role {
    /// Registration and login (MongoDB).
    Auth(AuthArgs),
    /// Wallets, holdings, records, settlement of every shard's outcomes, and the expiry of
    /// orphaned escrow (MongoDB, Redis, RabbitMQ).
    Portfolio(PortfolioArgs),
    /// Order entry: escrow, routing to the shards, cancels, prices (MongoDB, Redis, RabbitMQ).
    Order(ServiceArgs),
    /// One matching shard (RabbitMQ, and its own durable log in the data directory).
    Engine(EngineArgs),
}

impl Role {
    /// The subcommand's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Auth(_) => "auth",
            Self::Portfolio(_) => "portfolio",
            Self::Order(_) => "order",
            Self::Engine(_) => "engine",
        }
    }
}

/// Settings of the embedded exchange.
#[derive(Debug, Args)]
pub struct EmbeddedArgs {
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

/// Where the outside services of the distributed deployment are. `Debug` leaves out the URLs
/// (they may carry passwords) and the token secret.
#[derive(Clone, Args)]
pub struct Backends {
    /// MongoDB connection string (the store of users, stocks, orders, trades, the ledger).
    #[arg(
        long,
        env = "EXCHANGE_MONGO_URL",
        default_value = "mongodb://127.0.0.1:27017/?directConnection=true"
    )]
    pub mongo_url: String,
    /// MongoDB database name.
    #[arg(long, env = "EXCHANGE_MONGO_DB", default_value = "exchange")]
    pub mongo_db: String,
    /// Redis URL (the wallet and holdings cache).
    #[arg(
        long,
        env = "EXCHANGE_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/0"
    )]
    pub redis_url: String,
    /// Prefix of every Redis key (isolates deployments sharing a Redis).
    #[arg(long, env = "EXCHANGE_REDIS_PREFIX", default_value = "exchange:")]
    pub redis_prefix: String,
    /// AMQP URL of RabbitMQ (commands to shards, their outcomes).
    #[arg(
        long,
        env = "EXCHANGE_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        hide_env_values = true
    )]
    pub amqp_url: String,
    /// Prefix of every exchange and queue name (isolates deployments sharing a broker).
    #[arg(long, env = "EXCHANGE_AMQP_PREFIX", default_value = "exchange")]
    pub amqp_prefix: String,
    /// Matching shards (a stock goes to shard `stock_id % shards`); the same in every role.
    #[arg(long, env = "EXCHANGE_SHARDS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub shards: u32,
    /// HS256 secret for tokens; the same in every role (required).
    #[arg(long, env = "EXCHANGE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends")
            .field("mongo_url", &"<redacted>")
            .field("mongo_db", &self.mongo_db)
            .field("redis_url", &"<redacted>")
            .field("redis_prefix", &self.redis_prefix)
            .field("amqp_url", &"<redacted>")
            .field("amqp_prefix", &self.amqp_prefix)
            .field("shards", &self.shards)
            .field("jwt_secret", &"<redacted>")
            .finish()
    }
}

/// Settings of a stateless HTTP role.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// Address to listen on (default 0.0.0.0 and the role's port: auth 8081, portfolio 8082,
    /// order 8083).
    #[arg(long, env = "EXCHANGE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// The outside services.
    #[command(flatten)]
    pub backends: Backends,
}

/// Settings of the portfolio role.
#[derive(Debug, Args)]
pub struct PortfolioArgs {
    /// The listen address and outside services.
    #[command(flatten)]
    pub service: ServiceArgs,
    /// A reservation still pending after this long (its order process died between reserving
    /// and publishing the place, or stalled) is expired at its shard and its escrow released:
    /// `30s`, `2m`. A place published before the expire is never disturbed (shard queues are
    /// FIFO); one published after it is answered 503 and not placed.
    #[arg(long, env = "EXCHANGE_ORPHAN_AFTER", default_value = "30s", value_parser = parse_orphan_after)]
    pub orphan_after: Duration,
}

/// A human duration of at least one second (an age below that would expire orders in flight).
fn parse_orphan_after(text: &str) -> Result<Duration, String> {
    let age = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if age < Duration::from_secs(1) {
        return Err(format!("{text} is too short: at least 1s"));
    }
    Ok(age)
}

/// Settings of the auth role.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// The listen address and outside services.
    #[command(flatten)]
    pub service: ServiceArgs,
    /// bcrypt cost factor for passwords.
    #[arg(long, env = "EXCHANGE_BCRYPT_COST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(4..=31))]
    pub bcrypt_cost: u32,
    /// Token lifetime: `90s`, `30m`, `24h`, `7d`, `1h 30m`.
    #[arg(long, env = "EXCHANGE_TOKEN_TTL", default_value = "24h", value_parser = humantime::parse_duration)]
    pub token_ttl: Duration,
}

/// Settings of one matching shard.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// This shard's index (0 ..= shards - 1).
    #[arg(long, env = "EXCHANGE_SHARD")]
    pub shard: u32,
    /// Address of the health endpoint (default 0.0.0.0:8090 + shard).
    #[arg(long, env = "EXCHANGE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the shard's durable log and snapshots (created if missing).
    #[arg(long, env = "EXCHANGE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The outside services.
    #[command(flatten)]
    pub backends: Backends,
}

/// Default ports of the roles (nginx, the gateway, listens on 8080).
pub mod ports {
    /// Auth.
    pub const AUTH: u16 = 8081;
    /// Portfolio.
    pub const PORTFOLIO: u16 = 8082;
    /// Order.
    pub const ORDER: u16 = 8083;
    /// Engine shard 0; shard K listens on `ENGINE_BASE + K`.
    pub const ENGINE_BASE: u16 = 8090;
}

impl ServiceArgs {
    /// The address to listen on: the flag, or every interface on `default_port`.
    pub fn listen_or(&self, default_port: u16) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], default_port)))
    }
}

impl EngineArgs {
    /// The health endpoint's address.
    pub fn listen_address(&self) -> SocketAddr {
        let port = u16::try_from(self.shard)
            .ok()
            .and_then(|shard| shard.checked_add(ports::ENGINE_BASE))
            .unwrap_or(ports::ENGINE_BASE);
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], port)))
    }
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

impl EmbeddedArgs {
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
        assert_eq!(cli.embedded.token_ttl, Duration::from_secs(90 * 60));
        let cli = Cli::try_parse_from(["exchange"]).expect("parses");
        assert_eq!(cli.embedded.token_ttl, Duration::from_secs(86_400));
        assert!(Cli::try_parse_from(["exchange", "--token-ttl", "soon"]).is_err());
    }

    #[test]
    fn roles_parse_with_their_default_ports_and_require_the_shared_secret() {
        let cli = Cli::try_parse_from([
            "exchange",
            "engine",
            "--shard",
            "1",
            "--shards",
            "4",
            "--jwt-secret",
            "s",
        ])
        .expect("parses");
        let Some(Role::Engine(engine)) = cli.role else {
            panic!("not the engine role");
        };
        assert_eq!((engine.shard, engine.backends.shards), (1, 4));
        assert_eq!(engine.listen_address().port(), 8091);
        let cli = Cli::try_parse_from(["exchange", "order", "--jwt-secret", "s"]).expect("parses");
        let Some(Role::Order(order)) = cli.role else {
            panic!("not the order role");
        };
        assert_eq!(order.listen_or(ports::ORDER).port(), 8083);
        assert_eq!(order.backends.amqp_prefix, "exchange");
        let cli =
            Cli::try_parse_from(["exchange", "portfolio", "--jwt-secret", "s"]).expect("parses");
        let Some(Role::Portfolio(portfolio)) = cli.role else {
            panic!("not the portfolio role");
        };
        if std::env::var_os("EXCHANGE_ORPHAN_AFTER").is_none() {
            assert_eq!(portfolio.orphan_after, Duration::from_secs(30));
        }
        assert_eq!(portfolio.service.listen_or(ports::PORTFOLIO).port(), 8082);
        let cli = Cli::try_parse_from([
            "exchange",
            "portfolio",
            "--jwt-secret",
            "s",
            "--orphan-after",
            "2m",
        ])
        .expect("parses");
        let Some(Role::Portfolio(portfolio)) = cli.role else {
            panic!("not the portfolio role");
        };
        assert_eq!(portfolio.orphan_after, Duration::from_secs(120));
        for too_short in ["0s", "500ms", "soon"] {
            let parsed = Cli::try_parse_from([
                "exchange",
                "portfolio",
                "--jwt-secret",
                "s",
                "--orphan-after",
                too_short,
            ]);
            assert!(parsed.is_err(), "{too_short}");
        }
        let printed = format!("{:?}", order.backends);
        assert!(
            !printed.contains("guest:guest") && !printed.contains("\"s\""),
            "{printed}"
        );
        if std::env::var_os("EXCHANGE_JWT_SECRET").is_none() {
            assert!(Cli::try_parse_from(["exchange", "auth"]).is_err());
        }
    }
}
