//! End to end through the machine's RabbitMQ, in one process: an engine shard (temp-dir journal
//! store) served over AMQP, the settlement consumer over the in-memory portfolio, and the order
//! role's `AmqpRouter`. Each test has its own name prefix (`TestRabbit`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contracts::amqp::Topology;
use contracts::{
    CommandResult, OrderType, PlaceOrder, SelfTrade, ShardCommand, ShardOutcome, Side, TimeInForce,
};
use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, ExchangeDeleteOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use order::ShardRouter;
use order::bus::rabbit::{AmqpRouter, AmqpRouterConfig};
use platform::amqp::{self, Publisher, Route};
use platform::clock::{SharedClock, SystemClock};
use portfolio::PortfolioStore;
use portfolio::bus::{SettlementBusConfig, SweeperConfig, run_settlement, run_sweeper};
use portfolio::domain::ports::EscrowRequest;
use test_services::rabbitmq::TestRabbit;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{ShardBusConfig, serve};
use crate::recovery;

const SELLER: u64 = 1;
const BUYER: u64 = 2;
const BUYER_CASH_CENTS: u64 = 10_000_000;
const SELLER_SHARES: u64 = 1_000_000;
const WAIT: Duration = Duration::from_secs(30);

/// A background role with its stop signal.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

struct Harness {
    rabbit: TestRabbit,
    _dir: tempfile::TempDir,
    shard_path: PathBuf,
    store: Arc<dyn PortfolioStore>,
    stock_id: u64,
    settlement: Option<Running>,
}

impl Harness {
    async fn new() -> Self {
        let rabbit = TestRabbit::connect();
        // Every role declares the topology when it starts. Two connections declaring the same
        // new quorum queue at the same moment can get INTERNAL_ERROR from the broker (seen here:
        // settlement and the engine starting together; the deployed roles restart such a loop,
        // this harness does not), so the harness declares it first, as a first start would.
        let client = RawClient::connect(rabbit.url()).await;
        amqp::declare_topology(
            client.publisher.channel(),
            &Topology::new(rabbit.prefix()),
            1,
        )
        .await
        .unwrap_or_else(|e| panic!("declare the topology: {e:#}"));
        drop(client);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let shard_path = dir.path().join("shard-0");
        let store: Arc<dyn PortfolioStore> =
            Arc::new(portfolio::store::in_memory().unwrap_or_else(|e| panic!("store: {e}")));
        let stock_id = match store.create_stock("ACME".to_owned()).await {
            Ok(Ok(id)) => id,
            other => panic!("create stock: {other:?}"),
        };
        assert!(matches!(
            store.deposit(BUYER, BUYER_CASH_CENTS).await,
            Ok(Ok(()))
        ));
        assert!(matches!(
            store.add_shares(SELLER, stock_id, SELLER_SHARES).await,
            Ok(Ok(()))
        ));
        let mut harness = Self {
            rabbit,
            _dir: dir,
            shard_path,
            store,
            stock_id,
            settlement: None,
        };
        harness.settlement = Some(harness.start_settlement());
        harness
    }

    fn start_settlement(&self) -> Running {
        let config = SettlementBusConfig {
            url: self.rabbit.url().to_owned(),
            prefix: self.rabbit.prefix().to_owned(),
            shard_count: 1,
        };
        let store = Arc::clone(&self.store);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run_settlement(&config, store, async {
                let _ = stopped.await;
            })
            .await
        });
        Running { stop, task }
    }

    /// Opens the shard from its file (recovery) and serves it.
    fn start_engine(&self) -> Running {
        let clock: SharedClock = Arc::new(SystemClock);
        let shard = recovery::open(0, &self.shard_path, clock).unwrap_or_else(|e| panic!("{e}"));
        let config = ShardBusConfig {
            url: self.rabbit.url().to_owned(),
            prefix: self.rabbit.prefix().to_owned(),
            shard_count: 1,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(&config, shard, async {
                let _ = stopped.await;
            })
            .await
        });
        Running { stop, task }
    }

    /// The shard's last sequence as its file says (the engine must be stopped).
    fn shard_sequence(&self) -> u64 {
        let clock: SharedClock = Arc::new(SystemClock);
        recovery::open(0, &self.shard_path, clock)
            .unwrap_or_else(|e| panic!("{e}"))
            .sequence()
    }

    async fn router(&self) -> AmqpRouter {
        let config = AmqpRouterConfig {
            url: self.rabbit.url().to_owned(),
            prefix: self.rabbit.prefix().to_owned(),
            shard_count: 1,
            reply_timeout: WAIT,
        };
        AmqpRouter::connect(&config)
            .await
            .unwrap_or_else(|e| panic!("router: {e:#}"))
    }

    /// Escrows a limit order and returns the command that places it.
    async fn order(
        &self,
        user_id: u64,
        side: Side,
        price_cents: u64,
        quantity: u64,
    ) -> ShardCommand {
        let escrow = self
            .store
            .reserve(EscrowRequest {
                user_id,
                stock_id: self.stock_id,
                side,
                quantity,
                limit_price_cents: Some(price_cents),
                client_order_id: None,
            })
            .await;
        let Ok(Ok(escrow)) = escrow else {
            panic!("escrow refused: {escrow:?}");
        };
        ShardCommand::Place(PlaceOrder {
            order_ref: escrow.order_ref,
            user_id,
            stock_id: self.stock_id,
            side,
            order_type: OrderType::Limit { price_cents },
            quantity,
            time_in_force: TimeInForce::Gtc,
            post_only: false,
            self_trade: SelfTrade::Skip,
        })
    }

    /// Everything the duplicate checks compare.
    async fn state(&self) -> String {
        let mut state = format!(
            "applied {:?}\n",
            self.store
                .applied_through(0)
                .await
                .map_err(|e| e.to_string())
        );
        for user in [SELLER, BUYER] {
            state.push_str(&format!(
                "user {user}: cash {:?} holdings {:?}\nstock txs {:?}\nwallet txs {:?}\n",
                self.store.balance(user).await.map_err(|e| e.to_string()),
                self.store.holdings(user).await.map_err(|e| e.to_string()),
                self.store.stock_txs(user).await.map_err(|e| e.to_string()),
                self.store.wallet_txs(user).await.map_err(|e| e.to_string()),
            ));
        }
        state
    }

    async fn cash(&self, user: u64) -> u64 {
        self.store
            .balance(user)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn shares(&self, user: u64) -> u64 {
        let holdings = self
            .store
            .holdings(user)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        holdings
            .iter()
            .filter(|h| h.stock_id == self.stock_id)
            .map(|h| h.quantity)
            .sum()
    }

    /// Starts the orphan sweeper with a short age.
    fn start_sweeper(&self, orphan_after: Duration) -> Running {
        let config = SweeperConfig {
            url: self.rabbit.url().to_owned(),
            prefix: self.rabbit.prefix().to_owned(),
            shard_count: 1,
            orphan_after,
            every: Duration::from_millis(50),
        };
        let store = Arc::clone(&self.store);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run_sweeper(&config, store, async {
                let _ = stopped.await;
            })
            .await
        });
        Running { stop, task }
    }

    /// Messages waiting in shard 0's command queue.
    async fn queued_commands(&self) -> u32 {
        let connection = amqp::connect(self.rabbit.url(), "test-count")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let channel = connection
            .create_channel()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let queue = Topology::new(self.rabbit.prefix()).shard_queue(0);
        let count = channel
            .queue_declare(queue.as_str().into(), passive, FieldTable::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .message_count();
        let _ = connection.close(200, "counted".into()).await;
        count
    }

    async fn stop_settlement(&mut self) {
        if let Some(settlement) = self.settlement.take() {
            settlement
                .stop()
                .await
                .unwrap_or_else(|e| panic!("settlement: {e:#}"));
        }
    }
}

/// A raw client of the broker: publishes a message with its own reply queue and awaits the
/// answer (what a second order process or a replaying tool would do).
struct RawClient {
    _connection: lapin::Connection,
    publisher: Publisher,
    replies: lapin::Consumer,
    reply_queue: String,
}

impl RawClient {
    async fn connect(url: &str) -> Self {
        let connection = amqp::connect(url, "test-client")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let publisher = Publisher::open(&connection)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let private = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        let channel = publisher.channel();
        let queue = channel
            .queue_declare("".into(), private, FieldTable::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let reply_queue = queue.name().as_str().to_owned();
        let no_ack = BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        };
        let replies = channel
            .basic_consume(
                reply_queue.as_str().into(),
                "".into(),
                no_ack,
                FieldTable::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            _connection: connection,
            publisher,
            replies,
            reply_queue,
        }
    }

    /// Publishes `body` to `exchange`/`key` asking for an answer, and returns the answer.
    async fn ask(&mut self, exchange: &str, key: &str, body: &[u8]) -> ShardOutcome {
        let properties = amqp::persistent_properties()
            .with_reply_to(self.reply_queue.as_str().into())
            .with_correlation_id("again".into());
        let route = Route {
            exchange,
            routing_key: key,
            mandatory: true,
        };
        self.publisher
            .publish(route, body, properties)
            .await
            .unwrap_or_else(|e| panic!("publish: {e:#}"));
        let delivery = tokio::time::timeout(WAIT, self.replies.next())
            .await
            .unwrap_or_else(|_| panic!("no answer within {WAIT:?}"))
            .unwrap_or_else(|| panic!("reply consumer ended"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            amqp::text(delivery.properties.correlation_id()),
            Some("again")
        );
        amqp::decode(&delivery.properties, &delivery.data).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matched_orders_settle_once_and_duplicates_change_nothing() {
    let mut harness = Harness::new().await;
    let engine = harness.start_engine();
    let router = harness.router().await;

    let sell = harness.order(SELLER, Side::Sell, 500, 10).await;
    let sold = router
        .execute(sell)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((sold.sequence, &sold.result), (1, &CommandResult::Accepted));
    let buy = harness.order(BUYER, Side::Buy, 500, 4).await;
    let bought = router
        .execute(buy)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(bought.sequence, 2);
    assert_eq!(bought.fills.len(), 1);
    // The answer follows settlement: the next read sees the trade, exactly once.
    assert_eq!(harness.cash(BUYER).await, BUYER_CASH_CENTS - 2_000);
    assert_eq!(harness.cash(SELLER).await, 2_000);
    assert_eq!(harness.shares(BUYER).await, 4);
    assert_eq!(harness.shares(SELLER).await, SELLER_SHARES - 10);

    let asks = router.best_asks().await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(
        asks.iter()
            .map(|a| (a.stock_id, a.price_cents))
            .collect::<Vec<_>>(),
        vec![(harness.stock_id, 500)]
    );

    let before = harness.state().await;
    // The order role publishes the buy again (a lost confirm): answered, not placed again.
    let again = router
        .execute(buy)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(again, bought);
    // A processed command and a settled outcome published again by someone else.
    let topology = Topology::new(harness.rabbit.prefix());
    let mut client = RawClient::connect(harness.rabbit.url()).await;
    let command = contracts::amqp::encode(&buy).unwrap_or_else(|e| panic!("{e}"));
    let answered = client
        .ask(
            &topology.commands_exchange(),
            &Topology::command_key(0),
            &command,
        )
        .await;
    assert_eq!(answered, bought);
    let outcome = contracts::amqp::encode(&bought).unwrap_or_else(|e| panic!("{e}"));
    let answered = client
        .ask(
            &topology.events_exchange(),
            &Topology::outcome_key(0),
            &outcome,
        )
        .await;
    assert_eq!(answered, bought);
    assert_eq!(harness.state().await, before);

    engine
        .stop()
        .await
        .unwrap_or_else(|e| panic!("engine: {e:#}"));
    assert_eq!(
        harness.shard_sequence(),
        2,
        "no command was sequenced twice"
    );
    harness.stop_settlement().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_redelivered_after_a_crash_between_commit_and_ack_is_applied_once() {
    let mut harness = Harness::new().await;
    let first_engine = harness.start_engine();
    let router = Arc::new(harness.router().await);
    let sell = harness.order(SELLER, Side::Sell, 500, 10).await;
    router
        .execute(sell)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    // Take the events exchange away: the engine commits the next command, then cannot publish
    // its outcome, so it stops without acking (as if it died between its commit and its ack).
    let topology = Topology::new(harness.rabbit.prefix());
    let client = RawClient::connect(harness.rabbit.url()).await;
    client
        .publisher
        .channel()
        .exchange_delete(
            topology.events_exchange().as_str().into(),
            ExchangeDeleteOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let buy = harness.order(BUYER, Side::Buy, 500, 4).await;
    let waiting = {
        let router = Arc::clone(&router);
        tokio::spawn(async move { router.execute(buy).await })
    };
    let crashed = tokio::time::timeout(WAIT, first_engine.task)
        .await
        .unwrap_or_else(|_| panic!("the engine kept running without its events exchange"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(crashed.is_err(), "the engine reports the failed publish");
    assert_eq!(
        harness.shard_sequence(),
        2,
        "the buy was committed before the crash"
    );
    assert_eq!(harness.cash(SELLER).await, 0, "but not settled");

    // A new engine on the same file: the outcome is published again, the command redelivered.
    let second_engine = harness.start_engine();
    let bought = waiting
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("the waiting request: {e:#}"));
    assert_eq!((bought.sequence, bought.fills.len()), (2, 1));
    assert_eq!(harness.cash(BUYER).await, BUYER_CASH_CENTS - 2_000);
    assert_eq!(harness.cash(SELLER).await, 2_000);
    assert_eq!(harness.shares(BUYER).await, 4);
    second_engine
        .stop()
        .await
        .unwrap_or_else(|e| panic!("engine: {e:#}"));
    assert_eq!(
        harness.shard_sequence(),
        2,
        "the redelivered buy was not placed again"
    );
    harness.stop_settlement().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_engine_queries_fail_at_once_and_commands_time_out() {
    let harness = Harness::new().await;
    let config = AmqpRouterConfig {
        url: harness.rabbit.url().to_owned(),
        prefix: harness.rabbit.prefix().to_owned(),
        shard_count: 1,
        reply_timeout: Duration::from_millis(300),
    };
    let router = AmqpRouter::connect(&config)
        .await
        .unwrap_or_else(|e| panic!("router: {e:#}"));
    assert!(router.healthy());
    let asked = Instant::now();
    let asks = router.best_asks().await;
    assert!(asks.is_err(), "no engine owns the query queue: {asks:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "returned, not timed out"
    );
    let sell = harness.order(SELLER, Side::Sell, 500, 1).await;
    let placed = router.execute(sell).await;
    assert!(
        placed.is_err_and(|e| e.to_string().contains("did not arrive")),
        "a command nobody answers is an error after the reply timeout"
    );
}

/// Polls `condition` every 20 ms until it holds, failing after [`WAIT`].
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !condition().await {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphaned_reservation_is_expired_and_a_place_that_comes_later_is_not_placed() {
    let mut harness = Harness::new().await;
    let engine = harness.start_engine();
    let router = harness.router().await;
    // The order process reserved, then died (or stalled) before publishing.
    let sell = harness.order(SELLER, Side::Sell, 500, 10).await;
    let ShardCommand::Place(orphan) = sell else {
        panic!("not a place");
    };
    assert_eq!(harness.shares(SELLER).await, SELLER_SHARES - 10);
    let sweeper = harness.start_sweeper(Duration::from_millis(300));
    eventually("the orphan's shares are back", || async {
        harness.shares(SELLER).await == SELLER_SHARES
    })
    .await;
    sweeper
        .stop()
        .await
        .unwrap_or_else(|e| panic!("sweeper: {e:#}"));
    assert_eq!(
        harness.store.has_reservation(orphan.order_ref).await.ok(),
        Some(false)
    );
    let expired_at = harness.store.applied_through(0).await.unwrap_or(0);
    assert!(expired_at >= 1, "settled through the shard's outcome");

    // The stalled order process publishes its place after all: answered with the expire's
    // outcome (the order role answers 503), never placed.
    let answer = router
        .execute(sell)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        order::domain::order::expired_before_placed(&answer, orphan.order_ref),
        "{answer:?}"
    );
    assert_eq!(answer.result, CommandResult::Accepted);
    let asks = router.best_asks().await.unwrap_or_else(|e| panic!("{e:#}"));
    assert!(asks.is_empty(), "nothing rests: {asks:?}");
    assert_eq!(harness.shares(SELLER).await, SELLER_SHARES, "released once");
    assert_eq!(harness.cash(SELLER).await, 0);
    assert!(
        harness
            .store
            .stock_txs(SELLER)
            .await
            .unwrap_or_default()
            .is_empty(),
        "no order record"
    );
    drop(router);
    engine
        .stop()
        .await
        .unwrap_or_else(|e| panic!("engine: {e:#}"));
    harness.stop_settlement().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_place_published_before_the_expire_is_not_disturbed() {
    let mut harness = Harness::new().await;
    // No engine yet: the place waits in the shard queue, older than the sweeper's age.
    let sell = harness.order(SELLER, Side::Sell, 500, 10).await;
    let ShardCommand::Place(placed) = sell else {
        panic!("not a place");
    };
    let topology = Topology::new(harness.rabbit.prefix());
    let client = RawClient::connect(harness.rabbit.url()).await;
    amqp::declare_topology(client.publisher.channel(), &topology, 1)
        .await
        .unwrap_or_else(|e| panic!("declare: {e:#}"));
    let body = contracts::amqp::encode(&sell).unwrap_or_else(|e| panic!("{e}"));
    let exchange = topology.commands_exchange();
    let key = Topology::command_key(0);
    let route = Route {
        exchange: &exchange,
        routing_key: &key,
        mandatory: true,
    };
    client
        .publisher
        .publish(route, &body, amqp::persistent_properties())
        .await
        .unwrap_or_else(|e| panic!("publish: {e:#}"));
    let sweeper = harness.start_sweeper(Duration::from_millis(200));
    eventually("the sweeper sent an expire behind the place", || async {
        harness.queued_commands().await >= 2
    })
    .await;
    sweeper
        .stop()
        .await
        .unwrap_or_else(|e| panic!("sweeper: {e:#}"));
    let queued = u64::from(harness.queued_commands().await);

    let engine = harness.start_engine();
    eventually("every queued command is settled", || async {
        harness.store.applied_through(0).await.unwrap_or(0) == queued
    })
    .await;
    assert_eq!(
        harness.store.has_reservation(placed.order_ref).await.ok(),
        Some(true),
        "the resting sell keeps its escrow"
    );
    assert_eq!(harness.shares(SELLER).await, SELLER_SHARES - 10);
    let record = harness
        .store
        .stock_tx(placed.order_ref)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(record.is_some(), "the sell was placed");
    let router = harness.router().await;
    let asks = router.best_asks().await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(
        asks.iter().map(|a| a.price_cents).collect::<Vec<_>>(),
        vec![500]
    );
    // It still trades.
    let buy = harness.order(BUYER, Side::Buy, 500, 10).await;
    let bought = router
        .execute(buy)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(bought.fills.len(), 1);
    assert_eq!(harness.cash(SELLER).await, 5_000);
    drop(router);
    engine
        .stop()
        .await
        .unwrap_or_else(|e| panic!("engine: {e:#}"));
    assert_eq!(harness.shard_sequence(), queued + 1);
    harness.stop_settlement().await;
}

/// Round trips per second of place orders (router -> engine -> settlement -> answer), with
/// confirms, `concurrency` requests in flight. Run:
/// `cargo test -p engine --lib bus::tests::place_round_trips_per_second -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn place_round_trips_per_second() {
    const ORDERS: usize = 4_000;
    const CONCURRENCY: usize = 64;
    let harness = Harness::new().await;
    let engine = harness.start_engine();
    let router = Arc::new(harness.router().await);
    let harness = Arc::new(harness);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let router = Arc::clone(&router);
        let harness = Arc::clone(&harness);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for i in (worker..ORDERS).step_by(CONCURRENCY) {
                let (user, side) = if i % 2 == 0 {
                    (SELLER, Side::Sell)
                } else {
                    (BUYER, Side::Buy)
                };
                let command = harness.order(user, side, 500, 1).await;
                let sent = Instant::now();
                router
                    .execute(command)
                    .await
                    .unwrap_or_else(|e| panic!("{e:#}"));
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |percent: usize| latencies[(latencies.len() - 1) * percent / 100];
    let orders = u32::try_from(ORDERS).unwrap_or(u32::MAX);
    println!(
        "{ORDERS} place round trips, {CONCURRENCY} in flight: {:.0}/s; p50 {:?} p99 {:?}",
        f64::from(orders) / elapsed.as_secs_f64(),
        at(50),
        at(99)
    );
    // Every answer followed its settlement.
    assert_eq!(
        harness.store.applied_through(0).await.unwrap_or(0),
        u64::from(orders)
    );
    drop(router);
    engine.stop().await.unwrap_or_else(|e| panic!("{e:#}"));
}
