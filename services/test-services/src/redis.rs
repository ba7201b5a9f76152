//! A private `redis-server` per test, on a free loopback port, without persistence.
//!
//! [`TestRedis::start`] returns only once the server answers `PING`; dropping the handle kills
//! it. [`TestRedis::restart`] and [`TestRedis::stop`] let a test take Redis away (an outage) or
//! bring it back empty on the same port (what a Redis restart without persistence looks like to
//! its clients); [`TestRedis::flushall`] empties it while it keeps running. The server is
//! spoken to with a few bytes of RESP over a plain socket, so this crate needs no Redis client.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::loopback::free_port;

/// How to get the binary when it is missing.
const INSTALL_HINT: &str =
    "install it with `sudo apt-get install -y redis-server` (or `scripts/infra/redis install`)";
/// How long a fresh server may take to answer `PING`.
const START_DEADLINE: Duration = Duration::from_secs(10);
/// Free-port attempts (another process may take the port between probing and binding).
const PORT_ATTEMPTS: usize = 5;

/// A running (or deliberately stopped) private `redis-server`.
pub struct TestRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl TestRedis {
    /// Starts a private server on a free loopback port and waits until it answers `PING`.
    ///
    /// # Panics
    /// When `redis-server` is not installed (with the command that installs it) or does not
    /// come up within the deadline (with its log).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("redis temp dir: {e}"));
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            match launch(dir.path(), port) {
                Ok(child) => {
                    return Self {
                        port,
                        dir,
                        child: Some(child),
                    };
                }
                Err(failure) => failures.push(failure),
            }
        }
        panic!("redis-server did not start: {}", failures.join("; "))
    }

    /// The URL clients connect to (database 0).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server and starts a new, empty one on the same port.
    ///
    /// # Panics
    /// When the new server does not come up.
    pub fn restart(&mut self) {
        self.stop();
        let child = launch(self.dir.path(), self.port)
            .unwrap_or_else(|failure| panic!("redis-server did not restart: {failure}"));
        self.child = Some(child);
    }

    /// Kills the server (Redis is down until [`TestRedis::restart`]). Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already gone is fine: the point is that it is not running afterwards.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Deletes every key of every database.
    ///
    /// # Panics
    /// When the server does not answer `+OK`.
    pub fn flushall(&self) {
        match command(self.port, "FLUSHALL") {
            Ok(reply) if reply == "+OK" => {}
            Ok(reply) => panic!("FLUSHALL answered {reply}"),
            Err(e) => panic!("FLUSHALL failed: {e}"),
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `redis-server` on `port` and waits for `PING`; on failure the process is gone and
/// the error says why (with the server's log).
fn launch(dir: &Path, port: u16) -> Result<Child, String> {
    let log_path = dir.join(format!("redis-{port}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
    let log_err = log.try_clone().map_err(|e| format!("log file: {e}"))?;
    let port_text = port.to_string();
    let spawned = Command::new("redis-server")
        .args(["--port", &port_text, "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("redis-server is not installed: {INSTALL_HINT}")
        }
        Err(e) => return Err(format!("spawning redis-server: {e}")),
    };
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "redis-server on port {port} exited ({status}): {}",
                read_log(&log_path)
            ));
        }
        if matches!(command(port, "PING"), Ok(reply) if reply == "+PONG") {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "redis-server on port {port} did not answer PING within {START_DEADLINE:?}: {}",
                read_log(&log_path)
            ));
        }
        // Polling a condition with a deadline: the server gives no readiness signal.
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("(no log: {e})"))
}

/// Sends an inline command and returns the first reply line (e.g. `+PONG`).
fn command(port: u16, inline: &str) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(format!("{inline}\r\n").as_bytes())?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_flushes_stops_and_restarts_on_the_same_port() {
        let mut redis = TestRedis::start();
        let port = redis.port();
        assert_eq!(command(port, "SET k v").ok().as_deref(), Some("+OK"));
        assert_eq!(command(port, "EXISTS k").ok().as_deref(), Some(":1"));
        redis.flushall();
        assert_eq!(command(port, "EXISTS k").ok().as_deref(), Some(":0"));

        assert_eq!(command(port, "SET k v").ok().as_deref(), Some("+OK"));
        redis.stop();
        assert!(
            command(port, "PING").is_err(),
            "stopped Redis still answers"
        );
        redis.restart();
        assert_eq!(redis.port(), port);
        assert_eq!(command(port, "EXISTS k").ok().as_deref(), Some(":0"));
        assert!(redis.url().ends_with(&format!(":{port}/0")));
    }

    #[test]
    fn drop_kills_the_server() {
        let redis = TestRedis::start();
        let port = redis.port();
        drop(redis);
        assert!(
            command(port, "PING").is_err(),
            "dropped Redis still answers"
        );
    }
}
