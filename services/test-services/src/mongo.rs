//! A MongoDB-wire server for tests: SecantusDB, started by `scripts/infra/mongo run` (which
//! installs it into the repo's `.venv` on first use) on a free loopback port with a temporary
//! storage directory.
//!
//! [`TestMongo::start`] gives a test its own server; [`TestMongo::shared`] gives it a fresh
//! database on one server per test process (a server start costs about a second; unique
//! database names isolate the tests). The server runs under a small shell guard that holds the
//! read end of a pipe whose write end only this process holds: when the handle is dropped, or
//! the test process dies in any way (a panic, kill -9), the pipe closes and the guard stops the
//! server and deletes its storage. So no server outlives its tests, shared or not.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::loopback::free_port;

/// How long a start may take: the first one installs SecantusDB into the venv.
const START_DEADLINE: Duration = Duration::from_secs(90);
/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);

/// A database on a running SecantusDB server.
pub struct TestMongo {
    server: Arc<Server>,
    database: String,
}

impl TestMongo {
    /// Starts a server of its own. Panics (with what is missing) if it does not come up.
    pub fn start() -> Self {
        Self {
            server: Arc::new(Server::start()),
            database: unique_database_name(),
        }
    }

    /// A fresh database on the server shared by this test process.
    pub fn shared() -> Self {
        static SHARED: OnceLock<Arc<Server>> = OnceLock::new();
        let server = SHARED.get_or_init(|| Arc::new(Server::start()));
        Self {
            server: Arc::clone(server),
            database: unique_database_name(),
        }
    }

    /// The connection string (a direct connection to the one node).
    pub fn url(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/?directConnection=true",
            self.server.port
        )
    }

    /// This handle's database name (unique per handle).
    pub fn database_name(&self) -> &str {
        &self.database
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.server.port
    }
}

fn unique_database_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// One server process under its guard.
struct Server {
    port: u16,
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

/// The repository root (services/test-services/../..).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the server in the background, waits for stdin to close, then stops the server and
/// deletes the directory ($1 script, $2 port, $3 directory).
const GUARD: &str = r#"
script="$1"; port="$2"; dir="$3"
"$script" run --port "$port" --storage-path "$dir/data" >"$dir/server.log" 2>&1 &
server=$!
read -r _ || true
kill "$server" 2>/dev/null
for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.05; done
kill -9 "$server" 2>/dev/null
wait "$server" 2>/dev/null
rm -rf "$dir"
"#;

impl Server {
    fn start() -> Self {
        let Ok(status) = Command::new("python3").arg("--version").output() else {
            panic!(
                "python3 is not installed; SecantusDB (the MongoDB-wire server the tests use) \
                 needs it: apt-get install python3 python3-venv"
            );
        };
        assert!(status.status.success(), "python3 --version failed");
        let script = repo_root().join("scripts/infra/mongo");
        // Install first, in the foreground, so a failure is reported as such.
        let install = Command::new(&script)
            .arg("install")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            install.status.success(),
            "`scripts/infra/mongo install` failed (it needs python3 -m venv and pip with access \
             to PyPI for SecantusDB):\n{}",
            String::from_utf8_lossy(&install.stderr)
        );
        let dir = tempfile::Builder::new()
            .prefix("test-mongo-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"))
            .keep();
        let port = free_port();
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(GUARD)
            .arg("guard")
            .arg(&script)
            .arg(port.to_string())
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the mongo guard: {e}"));
        let Some(stdin) = child.stdin.take() else {
            panic!("the guard has no stdin");
        };
        let server = Self {
            port,
            guard: Mutex::new(Some((child, stdin))),
        };
        server.wait_until_listening(&dir);
        server
    }

    fn wait_until_listening(&self, dir: &Path) {
        let deadline = Instant::now() + START_DEADLINE;
        let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port);
        loop {
            if TcpStream::connect_timeout(&address.into(), PROBE_INTERVAL).is_ok() {
                return;
            }
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "SecantusDB did not listen on 127.0.0.1:{} within {START_DEADLINE:?}; its log:\n{log}",
                self.port
            );
            std::thread::sleep(PROBE_INTERVAL);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let taken = self.guard.lock().ok().and_then(|mut guard| guard.take());
        if let Some((mut child, mut stdin)) = taken {
            // Closing stdin tells the guard to stop the server; wait so the port is free after.
            let _ = stdin.write_all(b"\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_listens_until_dropped() {
        let mongo = TestMongo::start();
        let port = mongo.port();
        assert!(mongo.url().contains(&format!(":{port}/")));
        let other = TestMongo::shared();
        assert_ne!(other.database_name(), mongo.database_name());
        drop(mongo);
        let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        assert!(
            TcpStream::connect_timeout(&address.into(), PROBE_INTERVAL).is_err(),
            "the server stopped with its last handle"
        );
    }
}
