//! The distributed deployment as plain processes on loopback, the same topology as
//! `docker-compose.yml`: a MongoDB-wire server (SecantusDB), a private Redis, the machine's
//! RabbitMQ (isolated by a queue prefix), one `exchange engine --shard K` per shard, one
//! `exchange auth`, `exchange portfolio` and `exchange order`, and nginx in front.
//!
//! Every role process keeps its port across restarts, so nginx's upstreams stay valid when a
//! test kills and restarts one. Dropping the topology stops everything it started.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;
use test_services::mongo::TestMongo;
use test_services::nginx::{TestNginx, Upstreams};
use test_services::rabbitmq::TestRabbit;
use test_services::redis::TestRedis;

use crate::app::{free_port, log_tail, wait_until_healthy};
use crate::binary::exchange_binary;

use crate::deployment::SHARD_COUNT;

/// The running topology.
pub struct Topology {
    // Field order is drop order: the gateway and the roles stop before their backends.
    nginx: TestNginx,
    roles: BTreeMap<String, RoleProcess>,
    redis: TestRedis,
    rabbit: TestRabbit,
    mongo: TestMongo,
    env: Vec<(String, String)>,
    work_dir: TempDir,
}

/// One role process: how to start it, and the running child if any.
struct RoleProcess {
    args: Vec<String>,
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl Topology {
    /// Starts the backends, every role and nginx; returns once the gateway answers.
    pub fn start() -> Self {
        let work_dir = tempfile::Builder::new()
            .prefix("exchange-topology-")
            .tempdir()
            .unwrap_or_else(|error| panic!("cannot create a temporary directory: {error}"));
        let mongo = TestMongo::start();
        let redis = TestRedis::start();
        let rabbit = TestRabbit::connect();
        let mut roles = BTreeMap::new();
        for shard in 0..SHARD_COUNT {
            let data_dir = work_dir.path().join(format!("engine-{shard}"));
            let args = vec![
                "engine".to_owned(),
                "--shard".to_owned(),
                shard.to_string(),
                "--data-dir".to_owned(),
                data_dir.display().to_string(),
            ];
            roles.insert(format!("engine-{shard}"), RoleProcess::new(args, &work_dir));
        }
        for role in ["portfolio", "order", "auth"] {
            let mut args = vec![role.to_owned()];
            if role == "auth" {
                args.extend(["--bcrypt-cost".to_owned(), "4".to_owned()]);
            }
            roles.insert(role.to_owned(), RoleProcess::new(args, &work_dir));
        }
        let mut topology_env = Environment::default();
        topology_env.set("EXCHANGE_MONGO_URL", mongo.url());
        topology_env.set("EXCHANGE_MONGO_DB", mongo.database_name().to_owned());
        topology_env.set("EXCHANGE_REDIS_URL", redis.url());
        topology_env.set("EXCHANGE_REDIS_PREFIX", "exchange:".to_owned());
        topology_env.set("EXCHANGE_AMQP_URL", rabbit.url().to_owned());
        topology_env.set("EXCHANGE_AMQP_PREFIX", rabbit.prefix().to_owned());
        topology_env.set("EXCHANGE_SHARDS", SHARD_COUNT.to_string());
        topology_env.set("EXCHANGE_JWT_SECRET", "topology-test-secret".to_owned());
        for role in roles.values_mut() {
            role.start(&topology_env.0);
        }
        let upstream = |name: &str| {
            let port = roles.get(name).map_or(0, |role| role.port);
            vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))]
        };
        let nginx = TestNginx::start(&Upstreams {
            auth: upstream("auth"),
            portfolio: upstream("portfolio"),
            order: upstream("order"),
            feed: Vec::new(),
        });
        Self {
            nginx,
            roles,
            redis,
            rabbit,
            mongo,
            env: topology_env.0,
            work_dir,
        }
    }

    /// `http://127.0.0.1:port` of the gateway.
    pub fn base_url(&self) -> String {
        self.nginx.base_url()
    }

    /// The names of the role processes: `auth`, `engine-0`, ..., `order`, `portfolio`.
    pub fn role_names(&self) -> Vec<String> {
        self.roles.keys().cloned().collect()
    }

    /// Kills `role` with SIGKILL.
    pub fn kill(&mut self, role: &str) {
        self.role_mut(role).kill();
    }

    /// Starts `role` again on its port and waits for its health.
    pub fn restart(&mut self, role: &str) {
        let env = self.env.clone();
        self.role_mut(role).start(&env);
    }

    /// The private Redis (flush, restart, stop).
    pub fn redis(&mut self) -> &mut TestRedis {
        &mut self.redis
    }

    /// The MongoDB-wire server.
    pub fn mongo(&self) -> &TestMongo {
        &self.mongo
    }

    /// The broker handle (queue prefix).
    pub fn rabbit(&self) -> &TestRabbit {
        &self.rabbit
    }

    /// Where the topology keeps its logs and data.
    pub fn work_dir(&self) -> &Path {
        self.work_dir.path()
    }

    /// The log of `role` (every start appends to it).
    pub fn log_tail(&self, role: &str) -> String {
        self.roles
            .get(role)
            .map(|process| log_tail(&process.log))
            .unwrap_or_default()
    }

    fn role_mut(&mut self, role: &str) -> &mut RoleProcess {
        self.roles
            .get_mut(role)
            .unwrap_or_else(|| panic!("no role {role} in the topology"))
    }
}

/// The environment every role process gets.
#[derive(Default)]
struct Environment(Vec<(String, String)>);

impl Environment {
    fn set(&mut self, name: &str, value: String) {
        self.0.push((name.to_owned(), value));
    }
}

impl RoleProcess {
    fn new(args: Vec<String>, work_dir: &TempDir) -> Self {
        let name = args.iter().take(3).cloned().collect::<Vec<_>>().join("-");
        Self {
            args,
            port: free_port(),
            child: None,
            log: work_dir.path().join(format!("{name}.log")),
        }
    }

    fn start(&mut self, env: &[(String, String)]) {
        assert!(self.child.is_none(), "{:?} is already running", self.args);
        let binary = exchange_binary();
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|error| panic!("cannot open {}: {error}", self.log.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|error| panic!("cannot clone the log handle: {error}"));
        let mut child = Command::new(&binary)
            .args(&self.args)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .envs(env.iter().map(|(name, value)| (name, value)))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let base_url = format!("http://127.0.0.1:{}", self.port);
        if let Err(failure) = wait_until_healthy(&mut child, &base_url) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{:?} did not become healthy ({failure}); log tail:\n{}",
                self.args,
                log_tail(&self.log)
            );
        }
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL: no graceful shutdown, like `kill -9`.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RoleProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
