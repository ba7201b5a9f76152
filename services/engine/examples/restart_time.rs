//! How long a killed engine process takes to serve again, with N resting orders, through the
//! machine's RabbitMQ (a unique name prefix per size, removed afterwards).
//!
//! For each N: starts `exchange engine --shard 0 --shards 1` on a temporary data directory,
//! publishes N resting limit sells straight to its command queue (confirmed, in windows) and
//! consumes their outcomes from the shard's settlement queue (this program is the only settler),
//! then `ROUNDS` times: SIGKILL the engine, publish one new sell to the queue, start the engine
//! again and time, from the spawn of the new process,
//! - `health`: until `GET /health` answers 200 (the books are rebuilt from the shard's log);
//! - `first outcome`: until the new sell's outcome (the next sequence) arrives on the settlement
//!   queue (rebuilt, connected, consumed, committed, published with a confirm).
//!
//! ```sh
//! cargo build --release -p exchange
//! cargo run --release -p engine --example restart_time -- target/release/exchange 10000 100000
//! ```

#[path = "workload/resting.rs"]
mod workload;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use contracts::ShardOutcome;
use contracts::amqp::Topology;
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions};
use lapin::types::FieldTable;
use platform::amqp::{self, Publisher, Route};
use test_services::loopback::{free_port, health_is_ok};
use test_services::rabbitmq::TestRabbit;
use workload::resting_sell;

/// Commands published before their confirms are awaited together.
const WINDOW: usize = 1024;
/// Kill-and-restart rounds per size (the median is reported).
const ROUNDS: usize = 3;
/// How long any single wait may take.
const DEADLINE: Duration = Duration::from_secs(300);

/// One engine process and how to start it again.
struct Engine {
    binary: PathBuf,
    data_dir: PathBuf,
    port: u16,
    prefix: String,
    url: String,
    child: Option<Child>,
}

impl Engine {
    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.data_dir.with_extension("log"))?;
        let child = Command::new(&self.binary)
            .args(["engine", "--shard", "0", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("EXCHANGE_SHARDS", "1")
            .env("EXCHANGE_AMQP_URL", &self.url)
            .env("EXCHANGE_AMQP_PREFIX", &self.prefix)
            .env("EXCHANGE_JWT_SECRET", "restart-time-secret")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?; // SIGKILL
            child.wait()?;
        }
        Ok(())
    }

    /// Polls `GET /health` until it answers 200.
    fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < DEADLINE {
            if health_is_ok(self.port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the engine exited with {status}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        bail!("the engine was not healthy within {DEADLINE:?}")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Publishes commands to shard 0's queue and reads its outcomes as the settler.
struct Client {
    _connection: lapin::Connection,
    publisher: Publisher,
    outcomes: lapin::Consumer,
    commands_exchange: String,
    command_key: String,
    /// The highest sequence seen so far.
    last_sequence: u64,
}

impl Client {
    async fn connect(url: &str, topology: &Topology) -> anyhow::Result<Self> {
        let connection = amqp::connect(url, "restart-time").await?;
        let publisher = Publisher::open(&connection).await?;
        amqp::declare_topology(publisher.channel(), topology, 1).await?;
        let channel = amqp::consumer_channel(&connection, 1000).await?;
        let outcomes = channel
            .basic_consume(
                topology.settle_queue(0).as_str().into(),
                "restart-time".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Self {
            _connection: connection,
            publisher,
            outcomes,
            commands_exchange: topology.commands_exchange(),
            command_key: Topology::command_key(0),
            last_sequence: 0,
        })
    }

    /// Publishes `order_refs` as resting sells, each confirmed.
    async fn publish(&self, order_refs: std::ops::RangeInclusive<u64>) -> anyhow::Result<()> {
        let route = Route {
            exchange: &self.commands_exchange,
            routing_key: &self.command_key,
            mandatory: true,
        };
        let mut confirms = Vec::with_capacity(WINDOW);
        for order_ref in order_refs {
            let body = contracts::amqp::encode(&resting_sell(order_ref))?;
            confirms.push(
                self.publisher
                    .send(route, &body, amqp::persistent_properties())
                    .await?,
            );
            if confirms.len() == WINDOW {
                for confirm in confirms.drain(..) {
                    confirm.confirmed().await?;
                }
            }
        }
        for confirm in confirms {
            confirm.confirmed().await?;
        }
        Ok(())
    }

    /// Consumes outcomes until one with sequence `through` (outcomes published again after a
    /// restart carry older sequences and are skipped).
    async fn until_sequence(&mut self, through: u64) -> anyhow::Result<()> {
        while self.last_sequence < through {
            let delivery = tokio::time::timeout(DEADLINE, self.outcomes.next())
                .await
                .map_err(|_| anyhow!("no outcome within {DEADLINE:?}"))?
                .ok_or_else(|| anyhow!("the outcome consumer ended"))??;
            let outcome: ShardOutcome = amqp::decode(&delivery.properties, &delivery.data)?;
            delivery.acker.ack(BasicAckOptions::default()).await?;
            self.last_sequence = self.last_sequence.max(outcome.sequence);
        }
        Ok(())
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

async fn measure(binary: &Path, resting: u64) -> anyhow::Result<()> {
    let rabbit = TestRabbit::connect();
    let dir = tempfile::tempdir()?;
    let topology = Topology::new(rabbit.prefix());
    let mut client = Client::connect(rabbit.url(), &topology).await?;
    let mut engine = Engine {
        binary: binary.to_owned(),
        data_dir: dir.path().join("engine"),
        port: free_port(),
        prefix: rabbit.prefix().to_owned(),
        url: rabbit.url().to_owned(),
        child: None,
    };
    engine.spawn()?;
    engine.wait_healthy()?;
    let filling = Instant::now();
    client.publish(1..=resting).await?;
    client.until_sequence(resting).await?;
    let filled_in = filling.elapsed();
    let mut to_health = Vec::new();
    let mut to_outcome = Vec::new();
    let mut next_ref = resting;
    for _ in 0..ROUNDS {
        engine.kill()?;
        next_ref += 1;
        client.publish(next_ref..=next_ref).await?;
        let load = load_average();
        let started = Instant::now();
        engine.spawn()?;
        engine.wait_healthy()?;
        let healthy = started.elapsed();
        client.until_sequence(client.last_sequence + 1).await?;
        let served = started.elapsed();
        println!(
            "  resting {resting}: health after {healthy:.1?}, first outcome after {served:.1?} (load1 {load})"
        );
        to_health.push(healthy);
        to_outcome.push(served);
    }
    engine.kill()?;
    println!(
        "resting {resting:>7}: filled through the broker in {filled_in:.1?} ({:.0} commands/s); \
         restart to health median {:.1?}, to first outcome median {:.1?} ({ROUNDS} rounds)",
        f64::from(u32::try_from(resting).unwrap_or(u32::MAX)) / filled_in.as_secs_f64(),
        median(to_health),
        median(to_outcome),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let binary = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow!("usage: restart_time <exchange binary> [N ...]"))?,
    );
    let sizes: Vec<u64> = args.map(|arg| arg.parse()).collect::<Result<_, _>>()?;
    for resting in if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    } {
        measure(&binary, resting).await?;
    }
    Ok(())
}
