//! A private nginx gateway per test, rendered from the repo's `nginx/exchange.conf.template`.
//!
//! [`TestNginx::start`] renders the template with the given upstreams into a temporary prefix
//! directory (config, pid file, logs and temp paths all inside it), starts nginx in the foreground
//! as the current user on a free loopback port, and returns once the gateway's own `GET /health`
//! answers 200. Dropping the handle stops nginx (fast shutdown, then a kill after a deadline).
//! [`render`] is the same rendering `envsubst` does, exposed so that the docker-compose copy of
//! the config (`nginx/nginx.conf`) can be checked against the template.
//!
//! Limits: when the tests run as root, nginx's workers run as `nobody` (nginx's default), so the
//! prefix directory is made world-readable for them to reach the temp paths.

use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::loopback::{free_port, health_is_ok};

/// The gateway config template, as committed.
pub const TEMPLATE: &str = include_str!("../../../nginx/exchange.conf.template");
/// How to get the binary when it is missing.
const INSTALL_HINT: &str = "install it with `scripts/infra/nginx install`";
/// Where Debian puts the binary (not on a non-root user's PATH).
const DEBIAN_BINARY: &str = "/usr/sbin/nginx";
/// How long a fresh nginx may take to answer `/health`.
const START_DEADLINE: Duration = Duration::from_secs(15);
/// How long a stopping nginx may take before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(5);
/// Pause between two probes.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Free-port attempts (another process may take the port between probing and binding).
const PORT_ATTEMPTS: usize = 5;
/// The upstream of a role that has no process yet: every request to it is a 502.
const NO_SERVER: &str = "server 127.0.0.1:1 down;";

/// The values of the template's placeholders.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// `listen` argument: `8080` or `127.0.0.1:18080`.
    pub listen: String,
    /// `host:port` of each auth replica.
    pub auth: Vec<String>,
    /// `host:port` of each portfolio replica.
    pub portfolio: Vec<String>,
    /// `host:port` of each order replica.
    pub order: Vec<String>,
    /// `host:port` of each feed replica (none yet: the feed is a later issue).
    pub feed: Vec<String>,
    /// The pid file.
    pub pid_file: String,
    /// The error log (a path or `/dev/stderr`).
    pub error_log: String,
    /// The access log (a path or `/dev/stdout`).
    pub access_log: String,
    /// A writable directory for nginx's temp paths.
    pub temp_dir: String,
}

/// A placeholder the template has and the config gives no value for.
#[derive(Debug)]
pub struct UnknownPlaceholder(String);

impl std::fmt::Display for UnknownPlaceholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the nginx template has an unknown placeholder near `{}`",
            self.0
        )
    }
}

impl std::error::Error for UnknownPlaceholder {}

impl GatewayConfig {
    /// `(placeholder, value)` pairs, as `envsubst` would be given them.
    pub fn placeholders(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GATEWAY_LISTEN", self.listen.clone()),
            ("AUTH_SERVERS", server_lines(&self.auth)),
            ("PORTFOLIO_SERVERS", server_lines(&self.portfolio)),
            ("ORDER_SERVERS", server_lines(&self.order)),
            ("FEED_SERVERS", server_lines(&self.feed)),
            ("NGINX_PID_FILE", self.pid_file.clone()),
            ("NGINX_ERROR_LOG", self.error_log.clone()),
            ("NGINX_ACCESS_LOG", self.access_log.clone()),
            ("NGINX_TEMP_DIR", self.temp_dir.clone()),
        ]
    }
}

/// The upstream block's server lines; a role without replicas gets one `down` server (502).
fn server_lines(addresses: &[String]) -> String {
    if addresses.is_empty() {
        return NO_SERVER.to_string();
    }
    addresses
        .iter()
        .map(|address| format!("server {address} max_fails=3 fail_timeout=5s;"))
        .collect::<Vec<_>>()
        .join("\n        ")
}

/// Replaces every `${NAME}` of `template` by its value; any other `${` is an error.
pub fn render(template: &str, config: &GatewayConfig) -> Result<String, UnknownPlaceholder> {
    let mut text = template.to_string();
    for (name, value) in config.placeholders() {
        text = text.replace(&format!("${{{name}}}"), &value);
    }
    match text.find("${") {
        Some(at) => Err(UnknownPlaceholder(
            text[at..].chars().take(40).collect::<String>(),
        )),
        None => Ok(text),
    }
}

/// Where the gateway sends each role's requests.
#[derive(Debug, Clone, Default)]
pub struct Upstreams {
    /// Auth replicas.
    pub auth: Vec<SocketAddr>,
    /// Portfolio replicas.
    pub portfolio: Vec<SocketAddr>,
    /// Order replicas.
    pub order: Vec<SocketAddr>,
    /// Feed replicas.
    pub feed: Vec<SocketAddr>,
}

impl Upstreams {
    /// Every role at one address: the embedded exchange serves them all.
    pub fn all_at(address: SocketAddr) -> Self {
        Self {
            auth: vec![address],
            portfolio: vec![address],
            order: vec![address],
            feed: vec![address],
        }
    }
}

/// A running private nginx.
pub struct TestNginx {
    port: u16,
    prefix: tempfile::TempDir,
    binary: PathBuf,
    child: Option<Child>,
}

impl TestNginx {
    /// Renders the template for `upstreams`, starts nginx on a free loopback port and waits
    /// until its own `GET /health` answers 200.
    ///
    /// # Panics
    /// When nginx is not installed (with the command that installs it), rejects the rendered
    /// config, or does not answer within the deadline (with its error log).
    pub fn start(upstreams: &Upstreams) -> Self {
        let binary = nginx_binary();
        let prefix = tempfile::Builder::new()
            .prefix("nginx-test-")
            .tempdir()
            .unwrap_or_else(|error| panic!("nginx prefix directory: {error}"));
        open_to_workers(prefix.path());
        let mut failures = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            write_config(prefix.path(), port, upstreams);
            match launch(&binary, prefix.path(), port) {
                Ok(child) => {
                    return Self {
                        port,
                        prefix,
                        binary,
                        child: Some(child),
                    };
                }
                Err(failure) => failures.push(failure),
            }
        }
        panic!(
            "nginx did not start: {}\nerror log:\n{}",
            failures.join("; "),
            read_to_string(&prefix.path().join("error.log"))
        )
    }

    /// `http://127.0.0.1:port` of the gateway.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The error log so far (for failure messages).
    pub fn error_log(&self) -> String {
        read_to_string(&self.prefix.path().join("error.log"))
    }

    /// The rendered config this instance runs.
    pub fn config_text(&self) -> String {
        read_to_string(&config_path(self.prefix.path()))
    }
}

impl Drop for TestNginx {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop(&self.binary, self.prefix.path(), child);
        }
    }
}

/// The nginx binary: `NGINX_BIN`, Debian's path, or the PATH.
fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX_BIN") {
        return PathBuf::from(path);
    }
    if Path::new(DEBIAN_BINARY).is_file() {
        return PathBuf::from(DEBIAN_BINARY);
    }
    let found = Command::new("nginx")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if found {
        return PathBuf::from("nginx");
    }
    panic!("nginx is not installed: {INSTALL_HINT}")
}

/// nginx's workers run as `nobody` under a root master: they must reach the temp paths.
fn open_to_workers(prefix: &Path) {
    let owned_by_root = std::fs::metadata(prefix).is_ok_and(|metadata| metadata.uid() == 0);
    if owned_by_root {
        std::fs::set_permissions(prefix, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|error| panic!("cannot open the nginx prefix to workers: {error}"));
    }
}

fn config_path(prefix: &Path) -> PathBuf {
    prefix.join("nginx.conf")
}

fn write_config(prefix: &Path, port: u16, upstreams: &Upstreams) {
    let path_text = |name: &str| prefix.join(name).display().to_string();
    let addresses = |list: &[SocketAddr]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    let config = GatewayConfig {
        listen: format!("127.0.0.1:{port}"),
        auth: addresses(&upstreams.auth),
        portfolio: addresses(&upstreams.portfolio),
        order: addresses(&upstreams.order),
        feed: addresses(&upstreams.feed),
        pid_file: path_text("nginx.pid"),
        error_log: path_text("error.log"),
        access_log: path_text("access.log"),
        temp_dir: prefix.display().to_string(),
    };
    let text = render(TEMPLATE, &config).unwrap_or_else(|error| panic!("{error}"));
    std::fs::write(config_path(prefix), text)
        .unwrap_or_else(|error| panic!("cannot write the nginx config: {error}"));
}

fn launch(binary: &Path, prefix: &Path, port: u16) -> Result<Child, String> {
    let mut child = Command::new(binary)
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(config_path(prefix))
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-g")
        .arg("daemon off;")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot start {}: {error}; {INSTALL_HINT}", binary.display())
        });
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("nginx on port {port} exited with {status}"));
        }
        if health_is_ok(port) {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            // Best effort: it may have exited meanwhile.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no 200 from port {port} within {START_DEADLINE:?}"));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Fast shutdown (SIGTERM through `nginx -s stop`, which also ends the workers); a kill of
/// the master if that fails or takes too long.
fn stop(binary: &Path, prefix: &Path, mut child: Child) {
    // Best effort: the outcome is checked by waiting for the master below.
    let _ = Command::new(binary)
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(config_path(prefix))
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-s")
        .arg("stop")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + STOP_DEADLINE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn read_to_string(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GatewayConfig {
        GatewayConfig {
            listen: "8080".into(),
            auth: vec!["auth:8081".into()],
            portfolio: vec!["a:1".into(), "b:2".into()],
            order: vec!["order:8083".into()],
            feed: Vec::new(),
            pid_file: "/tmp/nginx.pid".into(),
            error_log: "/dev/stderr".into(),
            access_log: "/dev/stdout".into(),
            temp_dir: "/tmp".into(),
        }
    }

    #[test]
    fn render_fills_every_placeholder_and_leaves_nginx_variables() {
        let text = render(TEMPLATE, &config()).unwrap_or_else(|error| panic!("{error}"));
        assert!(!text.contains("${"), "{text}");
        assert!(text.contains("listen 8080 "), "{text}");
        assert!(text.contains("server a:1 max_fails=3 fail_timeout=5s;"));
        assert!(text.contains("server b:2 max_fails=3 fail_timeout=5s;"));
        assert!(
            text.contains(NO_SERVER),
            "a role without replicas gets a down server"
        );
        assert!(
            text.contains("$binary_remote_addr"),
            "nginx's own variables stay"
        );
    }

    #[test]
    fn an_unknown_placeholder_is_an_error() {
        let outcome = render("listen ${GATEWAY_LISTEN}; x ${NOPE};", &config());
        assert!(outcome.is_err_and(|error| error.to_string().contains("NOPE")));
    }
}
