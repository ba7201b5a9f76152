//! The distributed deployment as plain processes on loopback, the same topology as
//! `docker-compose.yml`: a MongoDB-wire server (SecantusDB), a private Redis, the machine's
//! RabbitMQ (isolated by a queue prefix), one `exchange engine --shard K` per shard, one
//! `exchange auth`, `exchange portfolio` and `exchange order`, and nginx in front.
//!
//! Every role process keeps its port across restarts, so nginx's upstreams stay valid when a
//! test kills and restarts one. Dropping the topology stops everything it started.
//!
//! For the fault tests: [`Topology::start_with_env`] adds environment to every role (e.g.
//! `EXCHANGE_ORPHAN_AFTER=2s`), [`Topology::terminate`] stops a role with SIGTERM (graceful
//! shutdown) and [`Topology::role_log`] gives a role's whole log (every start appends to it).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use test_services::loopback::free_port;
use test_services::mongo::TestMongo;
use test_services::nginx::{TestNginx, Upstreams};
use test_services::rabbitmq::TestRabbit;
use test_services::redis::TestRedis;

use crate::app::{log_tail, wait_until_healthy};
use crate::binary::exchange_binary;

use crate::deployment::{SHARD_COUNT, env};

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
        Self::start_with_env(&[])
    }

    /// [`Topology::start`] with `extra` environment for every role process (after the
    /// topology's own, so it may override it).
    pub fn start_with_env(extra: &[(&str, &str)]) -> Self {
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
        topology_env.set(env::MONGO_URL, mongo.url());
        topology_env.set(env::MONGO_DB, mongo.database_name().to_owned());
        topology_env.set(env::REDIS_URL, redis.url());
        topology_env.set(env::REDIS_PREFIX, "exchange:".to_owned());
        topology_env.set(env::AMQP_URL, rabbit.url().to_owned());
        topology_env.set(env::AMQP_PREFIX, rabbit.prefix().to_owned());
        topology_env.set(env::SHARDS, SHARD_COUNT.to_string());
        topology_env.set(env::JWT_SECRET, "topology-test-secret".to_owned());
        // Plain log lines (no colour codes), so tests can read fields from them.
        topology_env.set("NO_COLOR", "1".to_owned());
        // Errors in warnings without backtraces (readable tails; panics keep RUST_BACKTRACE).
        topology_env.set("RUST_LIB_BACKTRACE", "0".to_owned());
        for (name, value) in extra {
            topology_env.set(name, (*value).to_owned());
        }
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

    /// Stops `role` with SIGTERM (graceful shutdown) and waits until it has exited.
    ///
    /// # Panics
    /// When it is still running after [`TERMINATE_DEADLINE`] (it is then killed), with its log.
    pub fn terminate(&mut self, role: &str) {
        let stopped = self.role_mut(role).terminate();
        if let Err(failure) = stopped {
            panic!("{role}: {failure}; log tail:\n{}", self.log_tail(role));
        }
    }

    /// Whether `role` has a running process (not killed or terminated since its last start).
    pub fn is_running(&mut self, role: &str) -> bool {
        self.role_mut(role)
            .child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// The whole log of `role`, every start included.
    pub fn role_log(&self, role: &str) -> String {
        self.roles
            .get(role)
            .map(|process| std::fs::read_to_string(&process.log).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The tails of every role's log, each under its name (for failure messages).
    pub fn all_log_tails(&self) -> String {
        self.roles
            .keys()
            .map(|role| format!("===== {role} =====\n{}\n", self.log_tail(role)))
            .collect()
    }

    /// A guard that prints every role's log tail if the test panics while it lives.
    pub fn logs_on_panic(&self) -> LogsOnPanic {
        LogsOnPanic(
            self.roles
                .iter()
                .map(|(role, process)| (role.clone(), process.log.clone()))
                .collect(),
        )
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

/// Prints the roles' log tails when dropped during a panic (see [`Topology::logs_on_panic`]).
pub struct LogsOnPanic(Vec<(String, PathBuf)>);

impl Drop for LogsOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        // The topology's directory goes away with it: keep whole copies for the post-mortem.
        let kept = std::env::temp_dir().join(format!(
            "exchange-failed-topology-{}",
            crate::names::unique_suffix()
        ));
        let _ = std::fs::create_dir_all(&kept);
        for (role, path) in &self.0 {
            let _ = std::fs::copy(path, kept.join(format!("{role}.log")));
            eprintln!("===== log tail of {role} =====\n{}", log_tail(path));
        }
        eprintln!("whole role logs kept in {}", kept.display());
    }
}

/// How long a role may take to exit after SIGTERM.
pub const TERMINATE_DEADLINE: Duration = Duration::from_secs(30);

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

    /// SIGTERM, then waits (bounded) for the exit; kills it when the deadline passes.
    fn terminate(&mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Err("not running".to_owned());
        };
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        if !sent.as_ref().is_ok_and(|status| status.success()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`kill -TERM {}` failed: {sent:?}", child.id()));
        }
        let deadline = Instant::now() + TERMINATE_DEADLINE;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if Instant::now() < deadline => {
                    // Polling for the exit with a deadline: std has no timed wait.
                    std::thread::sleep(Duration::from_millis(10));
                }
                waited => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "no exit within {TERMINATE_DEADLINE:?} of SIGTERM ({waited:?}); killed"
                    ));
                }
            }
        }
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
