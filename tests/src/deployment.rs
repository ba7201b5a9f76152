//! The distributed topology, as data: the roles, their default ports, the environment each one
//! is given, the shard count, and which role owns each API path. The loopback launcher and the
//! docker-compose test both read it, so `docker-compose.yml`, `nginx/nginx.conf` and the
//! processes the tests start cannot drift apart silently.
//!
//! Invariants: every Part 1 path of the API contract appears once in [`ROUTES`]; every role
//! that serves HTTP answers `GET /health` on its port.

/// Matching shards of the deployment (engine processes `engine-0 .. engine-{N-1}`).
pub const SHARD_COUNT: u32 = 2;

/// The gateway's port (nginx), the one users and graders talk to.
pub const GATEWAY_PORT: u16 = 8080;
/// The first engine shard's health port; shard K listens on `ENGINE_BASE_PORT + K`.
pub const ENGINE_BASE_PORT: u16 = 8090;

/// The environment variables the roles read (flags mirror them).
pub mod env {
    /// `host:port` the role listens on.
    pub const LISTEN: &str = "EXCHANGE_LISTEN";
    /// MongoDB connection string.
    pub const MONGO_URL: &str = "EXCHANGE_MONGO_URL";
    /// MongoDB database name.
    pub const MONGO_DB: &str = "EXCHANGE_MONGO_DB";
    /// Redis URL.
    pub const REDIS_URL: &str = "EXCHANGE_REDIS_URL";
    /// Prefix of every Redis key.
    pub const REDIS_PREFIX: &str = "EXCHANGE_REDIS_PREFIX";
    /// AMQP URL of RabbitMQ.
    pub const AMQP_URL: &str = "EXCHANGE_AMQP_URL";
    /// Prefix of every exchange and queue name.
    pub const AMQP_PREFIX: &str = "EXCHANGE_AMQP_PREFIX";
    /// HS256 secret shared by every role that issues or checks tokens.
    pub const JWT_SECRET: &str = "EXCHANGE_JWT_SECRET";
    /// Shard count.
    pub const SHARDS: &str = "EXCHANGE_SHARDS";
    /// This engine's shard.
    pub const SHARD: &str = "EXCHANGE_SHARD";
    /// The engine's local durable log directory.
    pub const DATA_DIR: &str = "EXCHANGE_DATA_DIR";
    /// bcrypt cost (optional; tests lower it).
    pub const BCRYPT_COST: &str = "EXCHANGE_BCRYPT_COST";
    /// Token lifetime (optional).
    pub const TOKEN_TTL: &str = "EXCHANGE_TOKEN_TTL";
}

/// One kind of exchange process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// The subcommand (`exchange <name>`) and the docker-compose service name.
    pub name: &'static str,
    /// The default port (for the engine: shard 0's health port).
    pub default_port: u16,
    /// The environment variables the role is given (its required settings).
    pub env: &'static [&'static str],
    /// Whether replicas may run side by side behind nginx (no state of its own).
    pub stateless: bool,
}

/// `exchange auth`: register and login. Needs MongoDB.
pub const AUTH: Role = Role {
    name: "auth",
    default_port: 8081,
    env: &[env::LISTEN, env::MONGO_URL, env::MONGO_DB, env::JWT_SECRET],
    stateless: true,
};

/// `exchange portfolio`: wallets, holdings, stocks, and the settlement of shard outcomes.
/// Needs MongoDB, Redis and RabbitMQ.
pub const PORTFOLIO: Role = Role {
    name: "portfolio",
    default_port: 8082,
    env: &[
        env::LISTEN,
        env::MONGO_URL,
        env::MONGO_DB,
        env::REDIS_URL,
        env::REDIS_PREFIX,
        env::AMQP_URL,
        env::AMQP_PREFIX,
        env::JWT_SECRET,
        env::SHARDS,
    ],
    stateless: true,
};

/// `exchange order`: escrow, then the command to the stock's shard. Needs MongoDB, Redis and
/// RabbitMQ.
pub const ORDER: Role = Role {
    name: "order",
    default_port: 8083,
    env: &[
        env::LISTEN,
        env::MONGO_URL,
        env::MONGO_DB,
        env::REDIS_URL,
        env::REDIS_PREFIX,
        env::AMQP_URL,
        env::AMQP_PREFIX,
        env::JWT_SECRET,
        env::SHARDS,
    ],
    stateless: true,
};

/// `exchange engine --shard K --shards N`: one matching shard with its local log. Needs
/// RabbitMQ and its data directory; serves `/health` only.
pub const ENGINE: Role = Role {
    name: "engine",
    default_port: ENGINE_BASE_PORT,
    env: &[
        env::LISTEN,
        env::AMQP_URL,
        env::AMQP_PREFIX,
        env::JWT_SECRET,
        env::DATA_DIR,
    ],
    stateless: false,
};

/// Every role.
pub const ROLES: [Role; 4] = [AUTH, PORTFOLIO, ORDER, ENGINE];

/// The roles nginx routes API requests to.
pub const ROUTED_ROLES: [Role; 3] = [AUTH, PORTFOLIO, ORDER];

/// The engine shard `shard`'s process name (`engine-K`, also its compose service).
pub fn engine_name(shard: u32) -> String {
    format!("{}-{shard}", ENGINE.name)
}

/// The engine shard `shard`'s health port.
pub fn engine_port(shard: u32) -> u16 {
    let offset = u16::try_from(shard).unwrap_or(u16::MAX);
    ENGINE_BASE_PORT.saturating_add(offset)
}

/// The arguments after the binary for engine shard `shard` of `shards`.
pub fn engine_args(shard: u32, shards: u32) -> Vec<String> {
    vec![
        ENGINE.name.to_string(),
        "--shard".to_string(),
        shard.to_string(),
        "--shards".to_string(),
        shards.to_string(),
    ]
}

/// Every Part 1 path of the API contract and the role that serves it.
pub const ROUTES: [(&str, Role); 12] = [
    ("/authentication/register", AUTH),
    ("/authentication/login", AUTH),
    ("/setup/createStock", PORTFOLIO),
    ("/setup/addStockToUser", PORTFOLIO),
    ("/transaction/addMoneyToWallet", PORTFOLIO),
    ("/transaction/getWalletBalance", PORTFOLIO),
    ("/transaction/getWalletTransactions", PORTFOLIO),
    ("/transaction/getStockPortfolio", PORTFOLIO),
    ("/transaction/getStockTransactions", PORTFOLIO),
    ("/transaction/getStockPrices", ORDER),
    ("/engine/placeStockOrder", ORDER),
    ("/engine/cancelStockTransaction", ORDER),
];

/// The paths nginx rate limits (429 past the limit).
pub const RATE_LIMITED_PATHS: [&str; 2] = ["/authentication/register", "/authentication/login"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_goes_to_a_routed_role_and_no_path_twice() {
        for (index, (path, role)) in ROUTES.iter().enumerate() {
            assert!(ROUTED_ROLES.contains(role), "{path} -> {}", role.name);
            assert!(
                ROUTES[..index].iter().all(|(other, _)| other != path),
                "{path} listed twice"
            );
        }
    }

    #[test]
    fn ports_are_distinct() {
        let mut ports: Vec<u16> = ROUTED_ROLES.iter().map(|role| role.default_port).collect();
        ports.push(GATEWAY_PORT);
        ports.extend((0..SHARD_COUNT).map(engine_port));
        let count = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), count, "{ports:?}");
    }
}
