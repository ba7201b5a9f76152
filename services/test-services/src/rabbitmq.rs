//! The machine's RabbitMQ for tests: 127.0.0.1:5672, guest/guest, vhost `/`. Each handle has its
//! own name prefix, so tests share the broker without seeing each other's queues; dropping the
//! handle deletes the queues and exchanges with that prefix (best effort).

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};

/// Where the broker listens.
const ADDRESS: ([u8; 4], u16) = ([127, 0, 0, 1], 5672);
/// The AMQP URL of the broker.
pub const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// How long a broker we started may take to accept connections.
const START_DEADLINE: Duration = Duration::from_secs(90);
/// How to get the broker when it is missing.
const INSTALL: &str = "sudo apt-get install -y rabbitmq-server";

static STARTING: Mutex<()> = Mutex::new(());
static HANDLES: AtomicU64 = AtomicU64::new(0);

/// A test's view of the machine's RabbitMQ.
#[derive(Debug)]
pub struct TestRabbit {
    prefix: String,
}

fn listening() -> bool {
    let address = SocketAddr::from(ADDRESS);
    TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
}

/// Starts the broker if nothing listens on 5672, waiting for it with a deadline.
fn ensure_running() {
    let _one_starter = STARTING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if listening() {
        return;
    }
    let started = Command::new("rabbitmq-server").arg("-detached").status();
    match started {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "nothing listens on 127.0.0.1:5672 and `rabbitmq-server -detached` failed ({status}); \
             install or repair it with `{INSTALL}`"
        ),
        Err(error) => panic!(
            "nothing listens on 127.0.0.1:5672 and rabbitmq-server cannot be run ({error}); \
             install it with `{INSTALL}`"
        ),
    }
    let deadline = Instant::now() + START_DEADLINE;
    while !listening() {
        assert!(
            Instant::now() < deadline,
            "rabbitmq-server was started but does not listen on 127.0.0.1:5672 after {START_DEADLINE:?}; \
             see /var/log/rabbitmq/"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl TestRabbit {
    /// The machine's broker (started if needed) with a fresh name prefix.
    pub fn connect() -> Self {
        ensure_running();
        let handle = HANDLES.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = format!("test-{}-{handle}-{nanos:x}", std::process::id());
        Self { prefix }
    }

    /// The AMQP URL.
    pub fn url(&self) -> &'static str {
        URL
    }

    /// The name prefix of this handle's exchanges and queues.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// The names `rabbitmqctl` lists for `what` (`list_queues`, `list_exchanges`) with `prefix`.
fn listed(what: &str, prefix: &str) -> Vec<String> {
    let output = Command::new("rabbitmqctl")
        .args([what, "-s", "name"])
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    let dotted = format!("{prefix}.");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| name.starts_with(&dotted))
        .map(str::to_owned)
        .collect()
}

async fn delete(queues: &[String], exchanges: &[String]) -> Result<(), lapin::Error> {
    let connection = Connection::connect(URL, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    for queue in queues {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in exchanges {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await?;
    }
    connection.close(200, "cleaned up".into()).await
}

impl Drop for TestRabbit {
    fn drop(&mut self) {
        let queues = listed("list_queues", &self.prefix);
        let exchanges = listed("list_exchanges", &self.prefix);
        if queues.is_empty() && exchanges.is_empty() {
            return;
        }
        // Drop may run inside a tokio runtime, which cannot block on another: use a thread.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(delete(&queues, &exchanges)),
                Err(_) => Ok(()),
            }
        });
        if let Ok(Err(error)) = cleanup.join() {
            tracing::warn!(%error, prefix = %self.prefix, "could not delete the test's queues");
        }
    }
}
