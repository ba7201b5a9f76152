//! A seeded randomised multi-user run through HTTP: deposits, share grants, limit sells, market
//! buys (many rejected), cancels (some not allowed). After every step the API's own reads must
//! match a naive reference model and satisfy the conservation invariants.
//!
//! Seed: `SYSTEM_TESTS_SEED` (default below), printed first so a failure can be replayed.

mod model;

use model::Model;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok_null};
use system_tests::ledger::{
    self, AccountView, Inflows, check_invariants, is_resting, read_account,
};
use system_tests::money::{cents, cents_to_json, whole};
use system_tests::names::unique;
use system_tests::trader::Trader;

const DEFAULT_SEED: u64 = 0x5EED_2026;
const OPERATIONS: usize = 1_000;
const USERS: usize = 4;
const STOCKS: usize = 3;

struct Run {
    rng: ChaCha8Rng,
    users: Vec<Trader>,
    stocks: Vec<Value>,
    model: Model,
    known_orders: Vec<Vec<String>>,
    counts: BTreeMap<&'static str, usize>,
}

#[test]
fn random_operations_keep_every_invariant() {
    let seed = std::env::var("SYSTEM_TESTS_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    println!("SYSTEM_TESTS_SEED={seed}");
    let app = spawn_app();
    let api = app.api();
    let users: Vec<Trader> = (0..USERS)
        .map(|index| Trader::register(&api, &format!("rnd{index}")))
        .collect();
    let stocks: Vec<Value> = (0..STOCKS)
        .map(|index| users[0].create_stock(&unique(&format!("RND{index}"))))
        .collect();
    let mut run = Run {
        rng: ChaCha8Rng::seed_from_u64(seed),
        users,
        stocks,
        model: Model::new(USERS, STOCKS),
        known_orders: vec![Vec::new(); USERS],
        counts: BTreeMap::new(),
    };
    for step in 0..OPERATIONS {
        let description = run.step();
        println!("step {step}: {description}");
        run.check(&format!("seed {seed}, step {step} ({description})"));
    }
    println!("operations by kind: {:?}", run.counts);
    for kind in [
        "deposit",
        "sell",
        "sell rejected",
        "buy",
        "buy rejected",
        "cancel",
        "cancel rejected",
    ] {
        assert!(
            run.counts.get(kind).copied().unwrap_or(0) > 0,
            "seed {seed}: no '{kind}' happened"
        );
    }
}

impl Run {
    /// Performs one random operation, asserting the answer the model predicts.
    fn step(&mut self) -> String {
        let user = self.rng.random_range(0..USERS);
        let stock = self.rng.random_range(0..STOCKS);
        match self.rng.random_range(0..100) {
            0..15 => self.deposit(user),
            15..22 => self.add_shares(user, stock),
            22..52 => self.sell(user, stock),
            52..85 => self.market_buy(user, stock),
            _ => self.cancel(user),
        }
    }

    fn count(&mut self, kind: &'static str) {
        *self.counts.entry(kind).or_default() += 1;
    }

    fn deposit(&mut self, user: usize) -> String {
        let amount_cents: i128 = self.rng.random_range(1..=50_000);
        let amount = cents_to_json(amount_cents);
        let amount = if self.rng.random_bool(0.3) {
            Value::String(amount.to_string())
        } else {
            amount
        };
        self.users[user].deposit(amount.clone());
        self.model.deposit(user, amount_cents);
        self.count("deposit");
        format!("user {user} deposits {amount}")
    }

    fn add_shares(&mut self, user: usize, stock: usize) -> String {
        let quantity = self.rng.random_range(1..=100_u64);
        self.users[user].add_stock(&self.stocks[stock], quantity);
        self.model.add_shares(user, stock, quantity);
        self.count("add shares");
        format!("user {user} gets {quantity} of stock {stock}")
    }

    fn sell(&mut self, user: usize, stock: usize) -> String {
        let held = self.model.holdings[user][stock];
        let quantity = self.rng.random_range(1..=held + 3);
        let price_cents: i128 = self.rng.random_range(100..=2_000);
        let reply =
            self.users[user].place_sell(&self.stocks[stock], quantity, cents_to_json(price_cents));
        let description =
            format!("user {user} sells {quantity}/{held} of stock {stock} at {price_cents}c");
        if self.model.can_sell(user, stock, quantity) {
            expect_ok_null(&reply);
            let order_id = self.new_order_id(user);
            self.model
                .sell(user, stock, quantity, price_cents, order_id);
            self.count("sell");
        } else {
            expect_error(&reply, 400);
            self.count("sell rejected");
        }
        description
    }

    fn market_buy(&mut self, user: usize, stock: usize) -> String {
        let quantity = self.rng.random_range(1..=40_u64);
        let reply = self.users[user].place_market_buy(&self.stocks[stock], quantity);
        let description = format!("user {user} market-buys {quantity} of stock {stock}");
        match self.model.plan_market_buy(user, stock, quantity) {
            Some(fills) => {
                expect_ok_null(&reply);
                self.new_order_id(user);
                self.model.market_buy(user, stock, &fills);
                self.count("buy");
            }
            None => {
                expect_error(&reply, 400);
                self.count("buy rejected");
            }
        }
        description
    }

    fn cancel(&mut self, user: usize) -> String {
        let own: Vec<String> = self
            .model
            .asks
            .iter()
            .flatten()
            .filter(|ask| ask.user == user)
            .map(|ask| ask.order_id.clone())
            .collect();
        let others: Vec<String> = self
            .model
            .asks
            .iter()
            .flatten()
            .filter(|ask| ask.user != user)
            .map(|ask| ask.order_id.clone())
            .collect();
        let finished: Vec<String> = self.known_orders[user]
            .iter()
            .filter(|id| self.model.find_ask(id).is_none())
            .cloned()
            .collect();
        let choice = self.rng.random_range(0..10);
        let target = match choice {
            0..6 if !own.is_empty() => own[self.rng.random_range(0..own.len())].clone(),
            6..8 if !others.is_empty() => others[self.rng.random_range(0..others.len())].clone(),
            8 if !finished.is_empty() => finished[self.rng.random_range(0..finished.len())].clone(),
            _ => unique("missing"),
        };
        let reply = self.users[user].cancel(&Value::String(target.clone()));
        let resting_own = self
            .model
            .find_ask(&target)
            .filter(|&(stock, index)| self.model.asks[stock][index].user == user);
        match resting_own {
            Some((stock, index)) => {
                expect_ok_null(&reply);
                self.model.cancel(stock, index);
                self.count("cancel");
            }
            None => {
                expect_error(&reply, 400);
                self.count("cancel rejected");
            }
        }
        format!("user {user} cancels {target}")
    }

    /// The id of the order the user just placed: the one new record without a parent.
    fn new_order_id(&mut self, user: usize) -> String {
        let records = self.users[user].stock_transactions();
        let new: Vec<String> = ledger::list(&records)
            .iter()
            .filter(|record| record["parent_stock_tx_id"].is_null())
            .map(|record| ledger::id_text(&record["stock_tx_id"]))
            .filter(|id| !self.known_orders[user].contains(id))
            .collect();
        assert_eq!(
            new.len(),
            1,
            "exactly one new order record for user {user}: {records}"
        );
        self.known_orders[user].push(new[0].clone());
        new[0].clone()
    }

    /// Reads every account and compares with the model and the invariants.
    fn check(&self, context: &str) {
        let accounts: Vec<AccountView> = self.users.iter().map(read_account).collect();
        let inflows = Inflows {
            deposits_cents: self.model.deposits_cents.clone(),
            shares_added: self
                .stocks
                .iter()
                .zip(&self.model.shares_added)
                .map(|(id, added)| (ledger::id_text(id), *added))
                .collect(),
        };
        let violations = check_invariants(&accounts, &inflows);
        assert!(
            violations.is_empty(),
            "{context}: invariants broken: {violations:#?}"
        );
        for (user, account) in accounts.iter().enumerate() {
            assert_eq!(
                cents(&account.balance),
                self.model.cash_cents[user],
                "{context}: cash of user {user}"
            );
            assert_eq!(
                self.holdings(account),
                self.model.holdings[user],
                "{context}: holdings of user {user}"
            );
            assert_eq!(
                Self::resting(account),
                self.model_resting(user),
                "{context}: resting orders of user {user}"
            );
        }
        let prices = self.users[0].prices();
        for (stock, id) in self.stocks.iter().enumerate() {
            let listed = ledger::list(&prices)
                .iter()
                .find(|entry| entry["stock_id"] == *id);
            let price = listed.map(|entry| cents(&entry["current_price"]));
            assert_eq!(
                price,
                self.model.best_ask_cents(stock),
                "{context}: price of stock {stock}"
            );
        }
    }

    fn holdings(&self, account: &AccountView) -> Vec<u64> {
        self.stocks
            .iter()
            .map(|id| {
                ledger::list(&account.portfolio)
                    .iter()
                    .find(|entry| entry["stock_id"] == *id)
                    .map_or(0, |entry| whole(&entry["quantity_owned"]))
            })
            .collect()
    }

    /// (order id, remaining) of the account's resting orders, sorted.
    fn resting(account: &AccountView) -> Vec<(String, u64)> {
        let mut resting: Vec<(String, u64)> = ledger::orders(account)
            .filter(|order| is_resting(&order["order_status"]))
            .map(|order| {
                let remaining = whole(&order["quantity"]) - ledger::filled_quantity(account, order);
                (ledger::id_text(&order["stock_tx_id"]), remaining)
            })
            .collect();
        resting.sort();
        resting
    }

    fn model_resting(&self, user: usize) -> Vec<(String, u64)> {
        let mut resting: Vec<(String, u64)> = self
            .model
            .asks
            .iter()
            .flatten()
            .filter(|ask| ask.user == user)
            .map(|ask| (ask.order_id.clone(), ask.remaining))
            .collect();
        resting.sort();
        resting
    }
}

#[test]
fn the_model_rejects_buys_that_only_own_asks_could_fill() {
    let mut model = Model::new(2, 1);
    model.add_shares(0, 0, 10);
    model.deposit(0, 100_000);
    model.sell(0, 0, 10, 100, "own".into());
    assert!(model.plan_market_buy(0, 0, 1).is_none());
    assert!(
        model.plan_market_buy(1, 0, 1).is_none(),
        "user 1 has no cash"
    );
    model.deposit(1, 1_000);
    let fills = model.plan_market_buy(1, 0, 10).unwrap_or_default();
    assert_eq!(fills.len(), 1);
    assert!(model.plan_market_buy(1, 0, 11).is_none());
}
