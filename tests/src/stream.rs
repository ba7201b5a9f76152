//! A stream of orders through the gateway while a test breaks the deployment, and the checks
//! that nothing acknowledged was lost and nothing was applied twice (the fault tests).
//!
//! A [`Market`] is a set of sellers (each granted many shares of every stock) and buyers (each
//! with a large deposit). A [`Stream`] runs one thread per trader: sellers place limit sells,
//! buyers course market buys, one request at a time, reading every answer. Each seller's sells
//! carry prices unique to that seller, so every acknowledged sell can be found among the
//! seller's records; market buys are counted (an answer lost to a fault may still have been
//! executed, so `acknowledged <= recorded <= acknowledged + unknown`).
//!
//! Every answer must be a 200 or 400 envelope, or a 5xx envelope (a fault: outcome unknown); any
//! other answer, a transport error included, is recorded as unexpected and fails [`verify`].
//! With [`StreamOptions::self_check`] each trader also reads its own account after every
//! answer and compares it with its own records (no one else changes a buyer's cash or a
//! seller's holdings): a wrong balance or holding served at any moment is caught.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::http::Reply;
use crate::ledger::{
    AccountView, Inflows, check_invariants, filled_quantity, id_text, list, orders, read_account,
};
use crate::money::{cents, cents_to_json, whole};
use crate::names::unique;
use crate::trader::Trader;

/// Shares of every stock each seller gets.
pub const SELLER_SHARES: u64 = 1_000_000;
/// What each buyer deposits, in whole currency units.
pub const BUYER_DEPOSIT: u64 = 10_000_000;
/// The shard count of the topology.
pub const SHARDS: usize = 2;
/// Pause after a failed (5xx) answer, so a thread does not spin against a dead role. Pacing
/// only: nothing waits on it.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_millis(50);

/// Traders and stocks of one test.
pub struct Market {
    /// Sellers, granted [`SELLER_SHARES`] of every stock.
    pub sellers: Vec<Trader>,
    /// Buyers, with [`BUYER_DEPOSIT`] each.
    pub buyers: Vec<Trader>,
    /// The stock ids traded, each with its shard.
    pub stocks: Vec<(Value, usize)>,
    /// Deposits per account (sellers then buyers) and shares added per stock.
    pub inflows: Inflows,
    /// Each seller's next price in cents (unique per seller over the whole test).
    next_price: Vec<AtomicU64>,
}

/// How a stream behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamOptions {
    /// Each trader re-reads its own account after every answer (see the module doc).
    pub self_check: bool,
}

/// What one request was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderKind {
    /// A limit sell of `quantity` at `price_cents`.
    Sell {
        /// Index into [`Market::stocks`].
        stock: usize,
        /// Shares.
        quantity: u64,
        /// Limit price, unique among this seller's sells.
        price_cents: i128,
    },
    /// A course market buy.
    Buy {
        /// Index into [`Market::stocks`].
        stock: usize,
        /// Shares.
        quantity: u64,
    },
}

/// How an [`Outcome::Unexpected`] for a request that got no answer at all begins.
const TRANSPORT_ERROR: &str = "transport error: ";

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 200 success envelope.
    Acknowledged,
    /// 400 failure envelope: refused, nothing happened.
    Refused,
    /// 5xx failure envelope: a fault; the order may or may not have been executed. Status 0:
    /// no answer at all, accepted as a fault only where a test says so
    /// ([`StreamReport::accept_lost_answers`]).
    Failed(u16),
    /// Anything else (no envelope, another status, a transport error).
    Unexpected(String),
}

/// One request of the stream.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Index of the trader among sellers (sells) or buyers (buys).
    pub trader: usize,
    /// What was asked.
    pub kind: OrderKind,
    /// When it was sent.
    pub sent_at: Instant,
    /// When the answer came.
    pub answered_at: Instant,
    /// The answer.
    pub outcome: Outcome,
    /// The answer's body when it was not a 200 (for failure messages and the report).
    pub detail: String,
}

/// Live counters of a running stream (read while it runs).
#[derive(Default)]
pub struct Progress {
    acknowledged: [AtomicU64; SHARDS],
    sent: [AtomicU64; SHARDS],
    failed: AtomicU64,
    unexpected: AtomicU64,
}

impl Progress {
    /// Acknowledged orders on `shard`.
    pub fn acknowledged(&self, shard: usize) -> u64 {
        self.acknowledged
            .get(shard)
            .map_or(0, |count| count.load(Ordering::SeqCst))
    }

    /// Acknowledged orders on every shard.
    pub fn acknowledged_total(&self) -> u64 {
        (0..SHARDS).map(|shard| self.acknowledged(shard)).sum()
    }

    /// Requests sent to `shard` (answered or not).
    pub fn sent(&self, shard: usize) -> u64 {
        self.sent
            .get(shard)
            .map_or(0, |count| count.load(Ordering::SeqCst))
    }

    /// 5xx answers so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    /// Unexpected answers so far.
    pub fn unexpected(&self) -> u64 {
        self.unexpected.load(Ordering::SeqCst)
    }
}

/// A running stream of orders.
pub struct Stream {
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
    threads: Vec<JoinHandle<Journal>>,
}

/// What one trader thread did.
#[derive(Default)]
pub struct Journal {
    /// Every request, in order.
    pub sent: Vec<Sent>,
    /// Self-check comparisons made (both reads answered).
    pub checks: u64,
    /// Self-check reads answered 503 (an outage; nothing compared).
    pub unavailable_reads: u64,
    /// Self-check mismatches (a wrong balance or holding was served).
    pub violations: Vec<String>,
}

/// Everything a finished stream did.
#[derive(Default)]
pub struct StreamReport {
    /// Every request of every thread.
    pub sent: Vec<Sent>,
    /// Self-check comparisons made.
    pub checks: u64,
    /// Self-check reads answered 503.
    pub unavailable_reads: u64,
    /// Self-check mismatches.
    pub violations: Vec<String>,
}

impl StreamReport {
    /// Counts requests that got no answer at all (a transport error) as faults whose outcome is
    /// unknown, like a 5xx, instead of as unexpected answers; returns how many. For a test that
    /// kills the process behind the gateway while requests are in flight: a client may then see
    /// its connection closed with no answer (seen about once in three runs of the order-role
    /// kill). Every other check still holds for them: recorded at most once, never if refused.
    pub fn accept_lost_answers(&mut self) -> usize {
        let mut lost = 0;
        for sent in &mut self.sent {
            if matches!(&sent.outcome, Outcome::Unexpected(what) if what.starts_with(TRANSPORT_ERROR))
            {
                sent.outcome = Outcome::Failed(0);
                lost += 1;
            }
        }
        lost
    }

    /// Requests with `outcome` on `shard` (None: every shard).
    pub fn count(&self, market: &Market, shard: Option<usize>, outcome: &Outcome) -> usize {
        self.sent
            .iter()
            .filter(|sent| &sent.outcome == outcome)
            .filter(|sent| shard.is_none_or(|shard| market.shard_of(&sent.kind) == shard))
            .count()
    }

    /// Requests answered 5xx.
    pub fn failed(&self) -> usize {
        self.sent
            .iter()
            .filter(|sent| matches!(sent.outcome, Outcome::Failed(_)))
            .count()
    }

    /// One line: counts by outcome.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for sent in &self.sent {
            let key = match &sent.outcome {
                Outcome::Acknowledged => "200".to_owned(),
                Outcome::Refused => "400".to_owned(),
                Outcome::Failed(status) => status.to_string(),
                Outcome::Unexpected(_) => "unexpected".to_owned(),
            };
            *counts.entry(key).or_default() += 1;
        }
        let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
        for sent in &self.sent {
            if sent.outcome != Outcome::Acknowledged {
                *failures.entry(sent.detail.as_str()).or_default() += 1;
            }
        }
        format!(
            "{} requests by answer {counts:?}; {} self-checks, {} self-check reads unavailable; \
             answers other than 200 {failures:?}",
            self.sent.len(),
            self.checks,
            self.unavailable_reads
        )
    }

    /// Adds another report (several streams against the same market).
    pub fn extend(&mut self, other: Self) {
        self.sent.extend(other.sent);
        self.checks += other.checks;
        self.unavailable_reads += other.unavailable_reads;
        self.violations.extend(other.violations);
    }
}

impl Market {
    /// Registers `sellers` and `buyers`, creates stocks until there are `per_shard` on each
    /// shard, grants the shares and makes the deposits.
    pub fn open(base_url: &str, sellers: usize, buyers: usize, per_shard: [usize; SHARDS]) -> Self {
        let api = crate::http::Api::fresh_connections(base_url);
        let sellers: Vec<Trader> = (0..sellers)
            .map(|index| Trader::register(&api, &format!("seller{index}")))
            .collect();
        let buyers: Vec<Trader> = (0..buyers)
            .map(|index| Trader::register(&api, &format!("buyer{index}")))
            .collect();
        let creator = sellers
            .first()
            .unwrap_or_else(|| panic!("a market needs a seller"));
        let mut stocks = Vec::new();
        let mut wanted = per_shard;
        let mut attempts = 0;
        while wanted.iter().any(|&count| count > 0) {
            attempts += 1;
            assert!(attempts < 100, "could not create stocks on every shard");
            let id = creator.create_stock(&unique("FLT"));
            let shard = shard_of_id(&id);
            if let Some(count) = wanted.get_mut(shard).filter(|count| **count > 0) {
                *count -= 1;
                stocks.push((id, shard));
            }
        }
        let mut inflows = Inflows::default();
        for seller in &sellers {
            for (id, _) in &stocks {
                seller.add_stock(id, SELLER_SHARES);
            }
            inflows.deposits_cents.push(0);
        }
        for (id, _) in &stocks {
            let total = SELLER_SHARES * u64::try_from(sellers.len()).unwrap_or(0);
            inflows.shares_added.insert(id_text(id), total);
        }
        for buyer in &buyers {
            buyer.deposit(BUYER_DEPOSIT);
            inflows.deposits_cents.push(i128::from(BUYER_DEPOSIT) * 100);
        }
        let next_price = sellers.iter().map(|_| AtomicU64::new(100)).collect();
        Self {
            sellers,
            buyers,
            stocks,
            inflows,
            next_price,
        }
    }

    /// Every trader: sellers then buyers (the order of [`Inflows::deposits_cents`]).
    pub fn traders(&self) -> impl Iterator<Item = &Trader> {
        self.sellers.iter().chain(&self.buyers)
    }

    /// Reads every account.
    pub fn read_accounts(&self) -> Vec<AccountView> {
        self.traders().map(read_account).collect()
    }

    /// The shard an order goes to.
    pub fn shard_of(&self, kind: &OrderKind) -> usize {
        let stock = match kind {
            OrderKind::Sell { stock, .. } | OrderKind::Buy { stock, .. } => *stock,
        };
        self.stocks.get(stock).map_or(0, |(_, shard)| *shard)
    }

    /// Index of a stock on `shard`.
    pub fn stock_on(&self, shard: usize) -> usize {
        self.stocks
            .iter()
            .position(|(_, on)| *on == shard)
            .unwrap_or_else(|| panic!("the market has no stock on shard {shard}"))
    }

    /// Its stocks and seller count, for the checks.
    pub fn shape(&self) -> Shape<'_> {
        Shape {
            stocks: &self.stocks,
            sellers: self.sellers.len(),
        }
    }

    fn take_price(&self, seller: usize) -> i128 {
        let counter = self
            .next_price
            .get(seller)
            .unwrap_or_else(|| panic!("no seller {seller}"));
        i128::from(counter.fetch_add(1, Ordering::SeqCst))
    }
}

/// The shard of a stock id (`id % shards`, as the order role routes).
pub fn shard_of_id(id: &Value) -> usize {
    let number: u64 = id_text(id)
        .parse()
        .unwrap_or_else(|_| panic!("stock id {id} is not a number"));
    usize::try_from(number % u64::try_from(SHARDS).unwrap_or(1)).unwrap_or(0)
}

impl Stream {
    /// Starts one thread per trader of `market`.
    pub fn start(market: &Arc<Market>, options: StreamOptions) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::default());
        let mut threads = Vec::new();
        let roles = (0..market.sellers.len())
            .map(|index| (true, index))
            .chain((0..market.buyers.len()).map(|index| (false, index)));
        for (is_seller, index) in roles {
            let worker = Worker {
                market: Arc::clone(market),
                stop: Arc::clone(&stop),
                progress: Arc::clone(&progress),
                is_seller,
                index,
                options,
            };
            threads.push(std::thread::spawn(move || worker.run()));
        }
        Self {
            stop,
            progress,
            threads,
        }
    }

    /// The live counters.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Polls `condition` on the live counters until it holds; panics after `deadline` with
    /// `what` (the stream keeps running; the caller's topology logs explain why).
    pub fn wait_for(&self, what: &str, deadline: Duration, condition: impl Fn(&Progress) -> bool) {
        let until = Instant::now() + deadline;
        while !condition(&self.progress) {
            assert!(
                Instant::now() < until,
                "the stream did not reach '{what}' within {deadline:?}: {} acknowledged per shard {:?}, {} failed, {} unexpected",
                self.progress.acknowledged_total(),
                (0..SHARDS)
                    .map(|shard| self.progress.acknowledged(shard))
                    .collect::<Vec<_>>(),
                self.progress.failed(),
                self.progress.unexpected(),
            );
            // Polling a condition with a deadline.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the threads after their current request and gathers what they did.
    pub fn stop(self) -> StreamReport {
        self.stop.store(true, Ordering::SeqCst);
        let mut report = StreamReport::default();
        for thread in self.threads {
            let journal = thread
                .join()
                .unwrap_or_else(|_| panic!("a stream thread panicked"));
            report.sent.extend(journal.sent);
            report.checks += journal.checks;
            report.unavailable_reads += journal.unavailable_reads;
            report.violations.extend(journal.violations);
        }
        report
    }
}

struct Worker {
    market: Arc<Market>,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
    is_seller: bool,
    index: usize,
    options: StreamOptions,
}

impl Worker {
    fn trader(&self) -> &Trader {
        let traders = if self.is_seller {
            &self.market.sellers
        } else {
            &self.market.buyers
        };
        traders
            .get(self.index)
            .unwrap_or_else(|| panic!("no trader {}", self.index))
    }

    fn run(self) -> Journal {
        let mut journal = Journal::default();
        let mut round = self.index;
        // After an answer whose outcome is unknown, this trader's own records may still change.
        let mut settled = true;
        while !self.stop.load(Ordering::SeqCst) {
            round += 1;
            let stock = round % self.market.stocks.len();
            let kind = if self.is_seller {
                OrderKind::Sell {
                    stock,
                    quantity: 2 + u64::try_from(round % 3).unwrap_or(0),
                    price_cents: self.market.take_price(self.index),
                }
            } else {
                OrderKind::Buy {
                    stock,
                    quantity: 1 + u64::try_from(round % 2).unwrap_or(0),
                }
            };
            let shard = self.market.shard_of(&kind);
            if let Some(counter) = self.progress.sent.get(shard) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let sent_at = Instant::now();
            let reply = self.send(&kind);
            let detail = match &reply {
                Ok(reply) if reply.status == 200 => String::new(),
                Ok(reply) => format!("{} {}", reply.status, reply.text),
                Err(error) => error.to_string(),
            };
            let outcome = classify(reply);
            let answered_at = Instant::now();
            match &outcome {
                Outcome::Acknowledged => {
                    if let Some(counter) = self.progress.acknowledged.get(shard) {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Outcome::Refused => {}
                Outcome::Failed(_) => {
                    self.progress.failed.fetch_add(1, Ordering::SeqCst);
                    settled = false;
                }
                Outcome::Unexpected(_) => {
                    self.progress.unexpected.fetch_add(1, Ordering::SeqCst);
                    settled = false;
                }
            }
            let failed = matches!(outcome, Outcome::Failed(_) | Outcome::Unexpected(_));
            journal.sent.push(Sent {
                trader: self.index,
                kind,
                sent_at,
                answered_at,
                outcome,
                detail,
            });
            if failed {
                std::thread::sleep(PAUSE_AFTER_FAILURE);
            } else if self.options.self_check && settled {
                self.self_check(&mut journal);
            }
        }
        journal
    }

    fn send(&self, kind: &OrderKind) -> Result<Reply, reqwest::Error> {
        let trader = self.trader();
        let body = match kind {
            OrderKind::Sell {
                stock,
                quantity,
                price_cents,
            } => json!({
                "stock_id": self.stock_id(*stock), "is_buy": false, "order_type": "LIMIT",
                "quantity": quantity, "price": cents_to_json(*price_cents),
            }),
            OrderKind::Buy { stock, quantity } => json!({
                "stock_id": self.stock_id(*stock), "is_buy": true, "order_type": "MARKET",
                "quantity": quantity, "price": null,
            }),
        };
        trader.api().try_request(
            Method::POST,
            "/engine/placeStockOrder",
            trader.auth(),
            Some(body.to_string()),
        )
    }

    fn stock_id(&self, stock: usize) -> Value {
        self.market
            .stocks
            .get(stock)
            .map_or(Value::Null, |(id, _)| id.clone())
    }

    /// Reads this trader's own served value (buyer: balance; seller: holdings) and its
    /// records, and compares them. 503 reads (an outage) are counted, not compared.
    fn self_check(&self, journal: &mut Journal) {
        let trader = self.trader();
        let (served_path, records_path) = if self.is_seller {
            (
                "/transaction/getStockPortfolio",
                "/transaction/getStockTransactions",
            )
        } else {
            (
                "/transaction/getWalletBalance",
                "/transaction/getWalletTransactions",
            )
        };
        let served = read_or_outage(trader, served_path);
        let records = read_or_outage(trader, records_path);
        let (served, records) = match (served, records) {
            (Ok(Some(served)), Ok(Some(records))) => (served, records),
            (Err(problem), _) | (_, Err(problem)) => {
                journal.violations.push(problem);
                return;
            }
            _ => {
                journal.unavailable_reads += 1;
                return;
            }
        };
        journal.checks += 1;
        if self.is_seller {
            let mut expected: BTreeMap<String, i128> = self
                .market
                .stocks
                .iter()
                .map(|(id, _)| (id_text(id), i128::from(SELLER_SHARES)))
                .collect();
            for record in list(&records)
                .iter()
                .filter(|record| record["parent_stock_tx_id"].is_null())
            {
                if let Some(left) = expected.get_mut(&id_text(&record["stock_id"])) {
                    *left -= i128::from(whole(&record["quantity"]));
                }
            }
            let served = holdings_of(&served);
            let expected: BTreeMap<String, i128> = expected
                .into_iter()
                .filter(|(_, quantity)| *quantity != 0)
                .collect();
            if served != expected {
                journal.violations.push(format!(
                    "seller {}: holdings served {served:?}, its records say {expected:?}",
                    self.index
                ));
            }
        } else {
            let spent: i128 = list(&records)
                .iter()
                .filter(|tx| tx["is_debit"] == true)
                .map(|tx| cents(&tx["amount"]))
                .sum();
            let expected = i128::from(BUYER_DEPOSIT) * 100 - spent;
            let balance = cents(&served["balance"]);
            if balance != expected {
                journal.violations.push(format!(
                    "buyer {}: balance served {balance} cents, deposit minus its debits {expected}",
                    self.index
                ));
            }
        }
    }
}

/// `Ok(Some(data))` on 200, `Ok(None)` on a 503 envelope, `Err` on anything else.
fn read_or_outage(trader: &Trader, path: &str) -> Result<Option<Value>, String> {
    let reply = trader
        .api()
        .try_request(Method::GET, path, trader.auth(), None)
        .map_err(|error| format!("GET {path}: transport error {error}"))?;
    match (reply.status, envelope(&reply)) {
        (200, Some((true, data))) => Ok(Some(data)),
        (503, Some((false, _))) => Ok(None),
        _ => Err(format!(
            "GET {path}: unexpected answer {} {}",
            reply.status, reply.text
        )),
    }
}

/// `(success, data)` of an envelope body, if it is one.
fn envelope(reply: &Reply) -> Option<(bool, Value)> {
    let body: Value = serde_json::from_str(&reply.text).ok()?;
    let object = body.as_object()?;
    if object.len() != 2 {
        return None;
    }
    let success = object.get("success")?.as_bool()?;
    let data = object.get("data")?.clone();
    if !success && data["error"].as_str().is_none_or(str::is_empty) {
        return None;
    }
    Some((success, data))
}

/// Sorts an answer into an [`Outcome`].
pub fn classify(reply: Result<Reply, reqwest::Error>) -> Outcome {
    let reply = match reply {
        Ok(reply) => reply,
        Err(error) => return Outcome::Unexpected(format!("{TRANSPORT_ERROR}{error}")),
    };
    match (reply.status, envelope(&reply)) {
        (200, Some((true, Value::Null))) => Outcome::Acknowledged,
        (400, Some((false, _))) => Outcome::Refused,
        (status @ 500..=599, Some((false, _))) => Outcome::Failed(status),
        (status, _) => Outcome::Unexpected(format!("{status} {}", reply.text)),
    }
}

/// Holdings `stock_id -> quantity` of a getStockPortfolio answer.
fn holdings_of(portfolio: &Value) -> BTreeMap<String, i128> {
    list(portfolio)
        .iter()
        .map(|entry| {
            (
                id_text(&entry["stock_id"]),
                i128::from(whole(&entry["quantity_owned"])),
            )
        })
        .collect()
}

/// What [`verify`] found, for the test's printed lines.
#[derive(Debug, Default)]
pub struct Verified {
    /// Acknowledged sells, all found.
    pub acknowledged_sells: usize,
    /// Acknowledged market buys.
    pub acknowledged_buys: usize,
    /// Order records (sells + buys) in the accounts.
    pub order_records: usize,
    /// Sells and buys answered 5xx that were executed anyway.
    pub executed_despite_failure: usize,
    /// How long the invariants took to hold.
    pub settled_after: Duration,
    /// Violations on the first read after the stream (in-flight or orphaned escrow; 0 when
    /// everything had settled by the time the stream stopped).
    pub first_violations: usize,
}

/// Waits (up to `deadline`) until every invariant holds on the accounts read through the API,
/// then checks `report` against them: every acknowledged order is recorded exactly once,
/// nothing refused or never sent is recorded, nothing is recorded twice, holdings are exactly
/// the ledger's, and the stream saw no unexpected answer and no wrong served value.
pub fn verify(
    market: &Market,
    report: &StreamReport,
    deadline: Duration,
) -> Result<Verified, String> {
    let started = Instant::now();
    let mut first_violations = None;
    let (accounts, settled_after) = loop {
        let accounts = market.read_accounts();
        let mut violations = check_invariants(&accounts, &market.inflows);
        violations.extend(exact_holdings(&market.shape(), &accounts));
        first_violations.get_or_insert(violations.len());
        if violations.is_empty() {
            break (accounts, started.elapsed());
        }
        if started.elapsed() > deadline {
            return Err(format!(
                "the invariants still fail {deadline:?} after the stream: {violations:#?}"
            ));
        }
        // Polling a condition with a deadline (in-flight orders settle, orphans expire).
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut verified = Verified {
        acknowledged_sells: 0,
        acknowledged_buys: 0,
        order_records: 0,
        executed_despite_failure: 0,
        settled_after,
        first_violations: first_violations.unwrap_or(0),
    };
    let problems = check_accounts(&market.shape(), report, &accounts, &mut verified);
    if problems.is_empty() {
        Ok(verified)
    } else {
        Err(format!("{} problems: {problems:#?}", problems.len()))
    }
}

/// What the checks need to know about a market: its stocks and how many accounts are sellers
/// (the accounts are sellers then buyers).
pub struct Shape<'a> {
    /// Stock ids with their shards.
    pub stocks: &'a [(Value, usize)],
    /// The first `sellers` accounts are sellers.
    pub sellers: usize,
}

/// Checks `report` against `accounts` (read once everything settled): every acknowledged order
/// is recorded exactly once, nothing refused or never sent is recorded, transaction ids are
/// unique, and the stream saw no unexpected answer and no wrong served value. Returns the
/// problems found; counts what it checked into `verified`.
pub fn check_accounts(
    shape: &Shape<'_>,
    report: &StreamReport,
    accounts: &[AccountView],
    verified: &mut Verified,
) -> Vec<String> {
    let mut problems = Vec::new();
    for sent in &report.sent {
        if let Outcome::Unexpected(what) = &sent.outcome {
            problems.push(format!("unexpected answer to {:?}: {what}", sent.kind));
        }
    }
    problems.extend(report.violations.iter().cloned());
    let seller_accounts = accounts.get(..shape.sellers).unwrap_or_default();
    let buyer_accounts = accounts.get(shape.sellers..).unwrap_or_default();
    for (seller, account) in seller_accounts.iter().enumerate() {
        check_seller(shape, report, seller, account, verified, &mut problems);
    }
    for (buyer, account) in buyer_accounts.iter().enumerate() {
        check_buyer(shape, report, buyer, account, verified, &mut problems);
    }
    check_unique_ids(accounts, &mut problems);
    problems
}

/// Every acknowledged sell of `seller` is one record with its stock, quantity and price; every
/// sell record is one this seller sent and that was not refused.
fn check_seller(
    shape: &Shape<'_>,
    report: &StreamReport,
    seller: usize,
    account: &AccountView,
    verified: &mut Verified,
    problems: &mut Vec<String>,
) {
    let mut records: BTreeMap<i128, Vec<&Value>> = BTreeMap::new();
    for order in orders(account) {
        if order["is_buy"] == true {
            problems.push(format!("seller {seller} has a buy record {order}"));
            continue;
        }
        records
            .entry(cents(&order["stock_price"]))
            .or_default()
            .push(order);
    }
    verified.order_records += records.values().map(Vec::len).sum::<usize>();
    let mut sent_prices = BTreeSet::new();
    for sent in report.sent.iter().filter(|sent| sent.trader == seller) {
        let OrderKind::Sell {
            stock,
            quantity,
            price_cents,
        } = &sent.kind
        else {
            continue;
        };
        sent_prices.insert(*price_cents);
        let found = records.get(price_cents).map_or(&[][..], Vec::as_slice);
        let matches = |record: &&&Value| {
            record["stock_id"]
                == shape
                    .stocks
                    .get(*stock)
                    .map_or(Value::Null, |s| s.0.clone())
                && whole(&record["quantity"]) == *quantity
        };
        match (&sent.outcome, found.len()) {
            (_, count) if count > 1 => problems.push(format!(
                "seller {seller}: {count} records for the sell at {price_cents}c: {found:?}"
            )),
            (Outcome::Acknowledged, 0) => problems.push(format!(
                "seller {seller}: the acknowledged sell {:?} is not recorded",
                sent.kind
            )),
            (Outcome::Acknowledged, _) => {
                verified.acknowledged_sells += 1;
                if !found.iter().all(|record| matches(&record)) {
                    problems.push(format!(
                        "seller {seller}: the record of {:?} differs: {found:?}",
                        sent.kind
                    ));
                }
            }
            (Outcome::Refused, 1) => problems.push(format!(
                "seller {seller}: the refused sell {:?} is recorded: {found:?}",
                sent.kind
            )),
            (Outcome::Failed(_) | Outcome::Unexpected(_), 1) => {
                verified.executed_despite_failure += 1;
            }
            _ => {}
        }
    }
    for (price, found) in &records {
        if !sent_prices.contains(price) {
            problems.push(format!(
                "seller {seller}: a sell record at {price}c that was never sent: {found:?}"
            ));
        }
    }
}

/// Per stock, `acknowledged <= market-buy records <= acknowledged + unknown outcomes`.
fn check_buyer(
    shape: &Shape<'_>,
    report: &StreamReport,
    buyer: usize,
    account: &AccountView,
    verified: &mut Verified,
    problems: &mut Vec<String>,
) {
    for (stock, (id, _)) in shape.stocks.iter().enumerate() {
        let recorded = orders(account)
            .filter(|order| order["stock_id"] == *id)
            .inspect(|order| {
                if order["is_buy"] != true || order["order_type"] != "MARKET" {
                    problems.push(format!("buyer {buyer} has a record it never sent: {order}"));
                }
            })
            .count();
        let sent: Vec<&Sent> = report
            .sent
            .iter()
            .filter(|sent| sent.trader == buyer)
            .filter(|sent| matches!(sent.kind, OrderKind::Buy { stock: on, .. } if on == stock))
            .collect();
        let acknowledged = sent
            .iter()
            .filter(|sent| sent.outcome == Outcome::Acknowledged)
            .count();
        let unknown = sent
            .iter()
            .filter(|sent| matches!(sent.outcome, Outcome::Failed(_) | Outcome::Unexpected(_)))
            .count();
        verified.acknowledged_buys += acknowledged;
        verified.order_records += recorded;
        verified.executed_despite_failure += recorded.saturating_sub(acknowledged);
        if recorded < acknowledged || recorded > acknowledged + unknown {
            problems.push(format!(
                "buyer {buyer}, stock {stock}: {recorded} market-buy records, {acknowledged} acknowledged, {unknown} with unknown outcome"
            ));
        }
        let bought: u64 = orders(account)
            .filter(|order| order["stock_id"] == *id)
            .map(|order| filled_quantity(account, order))
            .sum();
        let requested: u64 = orders(account)
            .filter(|order| order["stock_id"] == *id)
            .map(|order| whole(&order["quantity"]))
            .sum();
        if bought != requested {
            problems.push(format!(
                "buyer {buyer}, stock {stock}: bought {bought} of {requested} requested by its market buys"
            ));
        }
    }
}

/// Holdings served are exactly the ledger's: shares granted, minus every sell placed (the
/// stream never cancels), plus everything bought.
pub fn exact_holdings(shape: &Shape<'_>, accounts: &[AccountView]) -> Vec<String> {
    let mut violations = Vec::new();
    for (index, account) in accounts.iter().enumerate() {
        let is_seller = index < shape.sellers;
        let mut expected: BTreeMap<String, i128> = BTreeMap::new();
        for (id, _) in shape.stocks {
            let granted = if is_seller { SELLER_SHARES } else { 0 };
            expected.insert(id_text(id), i128::from(granted));
        }
        for order in orders(account) {
            if let Some(quantity) = expected.get_mut(&id_text(&order["stock_id"])) {
                if order["is_buy"] == true {
                    *quantity += i128::from(filled_quantity(account, order));
                } else {
                    *quantity -= i128::from(whole(&order["quantity"]));
                }
            }
        }
        expected.retain(|_, quantity| *quantity != 0);
        let served = holdings_of(&account.portfolio);
        if served != expected {
            violations.push(format!(
                "account {index}: holdings served {served:?}, the ledger says {expected:?}"
            ));
        }
    }
    violations
}

/// No stock or wallet transaction id appears twice (nothing settled twice).
fn check_unique_ids(accounts: &[AccountView], problems: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for account in accounts {
        let stock_ids = list(&account.stock_transactions)
            .iter()
            .map(|record| format!("stock:{}", id_text(&record["stock_tx_id"])));
        let wallet_ids = list(&account.wallet_transactions)
            .iter()
            .map(|record| format!("wallet:{}", id_text(&record["wallet_tx_id"])));
        for id in stock_ids.chain(wallet_ids) {
            if !seen.insert(id.clone()) {
                problems.push(format!("transaction id {id} appears twice"));
            }
        }
    }
}

/// The first acknowledgement on `shard` answered after `since`, and the first of an order also
/// sent after `since`, as durations from `since`.
pub fn first_served_after(
    market: &Market,
    report: &StreamReport,
    shard: usize,
    since: Instant,
) -> (Option<Duration>, Option<Duration>) {
    let acknowledged = || {
        report.sent.iter().filter(move |sent| {
            sent.outcome == Outcome::Acknowledged && market.shard_of(&sent.kind) == shard
        })
    };
    let any = acknowledged()
        .filter(|sent| sent.answered_at >= since)
        .map(|sent| sent.answered_at - since)
        .min();
    let new = acknowledged()
        .filter(|sent| sent.sent_at >= since)
        .map(|sent| sent.answered_at - since)
        .min();
    (any, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sell(price_cents: i128, outcome: Outcome) -> Sent {
        let now = Instant::now();
        Sent {
            trader: 0,
            kind: OrderKind::Sell {
                stock: 0,
                quantity: 2,
                price_cents,
            },
            sent_at: now,
            answered_at: now,
            outcome,
            detail: String::new(),
        }
    }

    fn buy(outcome: Outcome) -> Sent {
        let now = Instant::now();
        Sent {
            trader: 0,
            kind: OrderKind::Buy {
                stock: 0,
                quantity: 1,
            },
            sent_at: now,
            answered_at: now,
            outcome,
            detail: String::new(),
        }
    }

    fn record(id: &str, is_buy: bool, price: Value, quantity: u64, status: &str) -> Value {
        json!({
            "stock_tx_id": id, "parent_stock_tx_id": null, "stock_id": "7",
            "wallet_tx_id": if status == "COMPLETED" { json!(format!("w{id}")) } else { Value::Null },
            "order_status": status, "is_buy": is_buy,
            "order_type": if is_buy { "MARKET" } else { "LIMIT" },
            "stock_price": price, "quantity": quantity, "time_stamp": "2026-01-01T00:00:00.000Z",
        })
    }

    fn account(records: Vec<Value>) -> AccountView {
        AccountView {
            balance: json!(0),
            portfolio: json!([]),
            stock_transactions: Value::Array(records),
            wallet_transactions: json!([]),
        }
    }

    fn problems(sent: Vec<Sent>, accounts: &[AccountView]) -> Vec<String> {
        let stocks = [(json!("7"), 1)];
        let shape = Shape {
            stocks: &stocks,
            sellers: 1,
        };
        let report = StreamReport {
            sent,
            ..StreamReport::default()
        };
        check_accounts(&shape, &report, accounts, &mut Verified::default())
    }

    #[test]
    fn every_acknowledged_sell_must_be_recorded_once() {
        let seller = account(vec![record("a", false, json!(1.01), 2, "IN_PROGRESS")]);
        let sent = vec![
            sell(101, Outcome::Acknowledged),
            sell(102, Outcome::Acknowledged),
        ];
        let found = problems(sent.clone(), &[seller, account(vec![])]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("is not recorded"), "{found:?}");

        let twice = account(vec![
            record("a", false, json!(1.01), 2, "IN_PROGRESS"),
            record("b", false, json!(1.01), 2, "IN_PROGRESS"),
        ]);
        let found = problems(sent[..1].to_vec(), &[twice, account(vec![])]);
        assert!(found.iter().any(|problem| problem.contains("2 records")));
    }

    #[test]
    fn refused_or_never_sent_sells_must_not_be_recorded() {
        let seller = account(vec![
            record("a", false, json!(1.03), 2, "IN_PROGRESS"),
            record("b", false, json!(1.04), 2, "IN_PROGRESS"),
        ]);
        let found = problems(
            vec![sell(103, Outcome::Refused)],
            &[seller, account(vec![])],
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("refused sell"), "{found:?}");
        assert!(found[1].contains("never sent"), "{found:?}");
        let unknown = account(vec![record("a", false, json!(1.03), 2, "IN_PROGRESS")]);
        let found = problems(
            vec![sell(103, Outcome::Failed(500))],
            &[unknown, account(vec![])],
        );
        assert_eq!(
            found,
            Vec::<String>::new(),
            "an unknown outcome may have executed"
        );
    }

    #[test]
    fn market_buy_records_are_bounded_by_the_answers() {
        let buyer = || {
            account(vec![
                record("x", true, json!(1), 1, "COMPLETED"),
                record("y", true, json!(1), 1, "COMPLETED"),
            ])
        };
        let found = problems(
            vec![buy(Outcome::Acknowledged)],
            &[account(vec![]), buyer()],
        );
        assert!(
            found
                .iter()
                .any(|problem| problem.contains("2 market-buy records"))
        );
        let found = problems(
            vec![buy(Outcome::Acknowledged), buy(Outcome::Failed(503))],
            &[account(vec![]), buyer()],
        );
        assert_eq!(found, Vec::<String>::new());
        let found = problems(
            vec![
                buy(Outcome::Acknowledged),
                buy(Outcome::Acknowledged),
                buy(Outcome::Acknowledged),
            ],
            &[account(vec![]), buyer()],
        );
        assert!(
            found
                .iter()
                .any(|problem| problem.contains("3 acknowledged"))
        );
    }

    #[test]
    fn a_transaction_id_seen_twice_or_an_unexpected_answer_is_a_problem() {
        let seller = account(vec![record("a", false, json!(1.01), 2, "IN_PROGRESS")]);
        let buyer = account(vec![record("a", true, json!(1), 1, "COMPLETED")]);
        let sent = vec![
            sell(101, Outcome::Acknowledged),
            buy(Outcome::Acknowledged),
            buy(Outcome::Unexpected("502 <html>".into())),
        ];
        let found = problems(sent, &[seller, buyer]);
        assert!(
            found
                .iter()
                .any(|problem| problem.contains("appears twice"))
        );
        assert!(
            found
                .iter()
                .any(|problem| problem.contains("unexpected answer"))
        );
    }

    #[test]
    fn lost_answers_are_unknown_outcomes_only_where_accepted() {
        let lost = || Outcome::Unexpected(format!("{TRANSPORT_ERROR}connection closed"));
        let sent = vec![
            sell(101, lost()),
            buy(lost()),
            buy(Outcome::Unexpected("502 <html>".into())),
        ];
        let mut report = StreamReport {
            sent,
            ..StreamReport::default()
        };
        assert_eq!(report.accept_lost_answers(), 2);
        assert_eq!(report.sent[0].outcome, Outcome::Failed(0));
        assert_eq!(report.sent[1].outcome, Outcome::Failed(0));
        assert!(
            matches!(report.sent[2].outcome, Outcome::Unexpected(_)),
            "a non-envelope answer stays unexpected"
        );
        let sent = vec![sell(101, lost())];
        assert!(
            problems(sent, &[account(vec![]), account(vec![])])
                .iter()
                .any(|problem| problem.contains("unexpected answer")),
            "without accepting, a lost answer is a problem"
        );
    }

    #[test]
    fn holdings_must_be_exactly_the_ledgers() {
        let stocks = [(json!("7"), 1)];
        let shape = Shape {
            stocks: &stocks,
            sellers: 1,
        };
        let mut seller = account(vec![record("a", false, json!(1.01), 2, "IN_PROGRESS")]);
        seller.portfolio = json!([{"stock_id": "7", "quantity_owned": SELLER_SHARES - 2}]);
        assert_eq!(
            exact_holdings(&shape, &[seller.clone()]),
            Vec::<String>::new()
        );
        seller.portfolio = json!([{"stock_id": "7", "quantity_owned": SELLER_SHARES}]);
        assert_eq!(exact_holdings(&shape, &[seller]).len(), 1);
    }

    #[test]
    fn answers_are_classified_by_status_and_envelope() {
        let reply = |status, text: &str| {
            Ok(Reply {
                status,
                text: text.to_owned(),
                request: "POST /engine/placeStockOrder".to_owned(),
            })
        };
        let failure = r#"{"success":false,"data":{"error":"unavailable"}}"#;
        assert_eq!(
            classify(reply(200, r#"{"success":true,"data":null}"#)),
            Outcome::Acknowledged
        );
        assert_eq!(classify(reply(400, failure)), Outcome::Refused);
        assert_eq!(classify(reply(503, failure)), Outcome::Failed(503));
        for (status, text) in [
            (502, "<html>bad gateway</html>"),
            (200, r#"{"success":true,"data":{"x":1}}"#),
            (404, failure),
            (500, r#"{"success":false,"data":{"error":""}}"#),
        ] {
            assert!(
                matches!(classify(reply(status, text)), Outcome::Unexpected(_)),
                "{status} {text}"
            );
        }
    }
}
