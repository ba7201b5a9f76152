//! Starting the exchange under test: one process per test, its own port and data directory.
//!
//! `spawn_app()` honours `EXCHANGE_BASE_URL` (test an already running deployment, e.g. the
//! distributed topology behind nginx); `spawn_local_app()` always starts a process, for tests that
//! must kill and restart it.

use crate::binary::exchange_binary;
use crate::http::Api;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use test_services::loopback::free_port;

/// How long a fresh process may take to answer `GET /health` with 200.
const HEALTH_DEADLINE: Duration = Duration::from_secs(60);
/// Pause between two health probes while waiting for start-up.
const HEALTH_POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Start attempts (a free port can be taken by someone else between probing and binding).
const START_ATTEMPTS: usize = 3;
/// Shards the tests run with (more than one, so routing by stock id is exercised).
const SHARD_COUNT: u32 = 2;

/// An exchange under test. Dropping it kills the process (if this harness started one).
pub struct TestApp {
    base_url: String,
    local: Option<LocalExchange>,
}

struct LocalExchange {
    child: Option<Child>,
    work_dir: TempDir,
}

/// The app the API tests use: `EXCHANGE_BASE_URL` if set, else a freshly started process.
pub fn spawn_app() -> TestApp {
    match std::env::var("EXCHANGE_BASE_URL") {
        Ok(base_url) if !base_url.trim().is_empty() => TestApp {
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            local: None,
        },
        _ => spawn_local_app(),
    }
}

/// Always starts a local process with an empty temporary data directory.
pub fn spawn_local_app() -> TestApp {
    let work_dir = tempfile::Builder::new()
        .prefix("exchange-test-")
        .tempdir()
        .unwrap_or_else(|error| panic!("cannot create a temporary directory: {error}"));
    let mut local = LocalExchange {
        child: None,
        work_dir,
    };
    let base_url = local.start();
    TestApp {
        base_url,
        local: Some(local),
    }
}

impl TestApp {
    /// `http://host:port` of the exchange.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A fresh client for the current base URL.
    pub fn api(&self) -> Api {
        Api::new(&self.base_url)
    }

    /// Whether the exchange is an outside deployment (`EXCHANGE_BASE_URL`).
    pub fn is_external(&self) -> bool {
        self.local.is_none()
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and waits for it to be gone.
    pub fn kill9(&mut self) {
        self.local_mut().kill();
    }

    /// Starts the process again on the same data directory; the base URL may change.
    pub fn restart(&mut self) {
        let base_url = self.local_mut().start();
        self.base_url = base_url;
    }

    /// The log file of the local process (stdout and stderr of every start).
    pub fn log_path(&self) -> Option<PathBuf> {
        self.local.as_ref().map(LocalExchange::log_path)
    }

    fn local_mut(&mut self) -> &mut LocalExchange {
        self.local.as_mut().unwrap_or_else(|| {
            panic!("this test needs a local exchange process, not EXCHANGE_BASE_URL")
        })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(local) = self.local.as_mut() {
            local.kill();
        }
    }
}

impl LocalExchange {
    fn data_dir(&self) -> PathBuf {
        self.work_dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.work_dir.path().join("exchange.log")
    }

    /// Starts the binary and returns its base URL once `/health` answers 200.
    fn start(&mut self) -> String {
        assert!(self.child.is_none(), "the exchange is already running");
        let binary = exchange_binary();
        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let mut child = self.spawn_child(&binary, port);
            let base_url = format!("http://127.0.0.1:{port}");
            match wait_until_healthy(&mut child, &base_url) {
                Ok(()) => {
                    self.child = Some(child);
                    return base_url;
                }
                Err(failure) => {
                    // Best effort: the child may already have exited.
                    let _ = child.kill();
                    let _ = child.wait();
                    last_failure = failure;
                }
            }
        }
        panic!(
            "the exchange did not become healthy ({last_failure}); binary {}, log tail:\n{}",
            binary.display(),
            log_tail(&self.log_path())
        );
    }

    fn spawn_child(&self, binary: &Path, port: u16) -> Child {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap_or_else(|error| panic!("cannot open the exchange log: {error}"));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|error| panic!("cannot clone the log handle: {error}"));
        Command::new(binary)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--shards")
            .arg(SHARD_COUNT.to_string())
            .arg("--bcrypt-cost")
            .arg("4")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()))
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Child::kill sends SIGKILL on Unix: no graceful shutdown, like `kill -9`.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn wait_until_healthy(child: &mut Child, base_url: &str) -> Result<(), String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|error| error.to_string())?;
    let deadline = Instant::now() + HEALTH_DEADLINE;
    let health_url = format!("{base_url}/health");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the process exited with {status}"));
        }
        let response = client.get(&health_url).send();
        if response.is_ok_and(|response| response.status().as_u16() == 200) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no 200 from {health_url} within {HEALTH_DEADLINE:?}"
            ));
        }
        std::thread::sleep(HEALTH_POLL_INTERVAL);
    }
}

pub(crate) fn log_tail(path: &Path) -> String {
    const TAIL_BYTES: usize = 4000;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(TAIL_BYTES);
    let start = (start..text.len())
        .find(|&index| text.is_char_boundary(index))
        .unwrap_or(text.len());
    text[start..].to_string()
}
