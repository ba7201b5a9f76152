//! Concurrent requests: all-or-nothing buys racing for the same shares, one buyer's cash raced
//! across stocks on different shards, and cancels racing buys. Whatever interleaving the exchange
//! picks, the totals must add up and nothing may go negative.

use serde_json::{Value, json};
use std::thread;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok_null};
use system_tests::http::Reply;
use system_tests::ledger::{Inflows, check_invariants, id_text, read_account};
use system_tests::money::cents;
use system_tests::names::unique;
use system_tests::trader::Trader;

/// Runs `request` once per item on its own thread, all at once; returns the replies in order.
fn all_at_once<T: Sync>(items: &[T], request: impl Fn(&T) -> Reply + Sync) -> Vec<Reply> {
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(|| request(item)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| panic!("a request thread panicked"))
            })
            .collect()
    })
}

/// Asserts every reply is a 200 success or a 400 error; returns how many succeeded.
fn successes(replies: &[Reply]) -> usize {
    replies
        .iter()
        .filter(|reply| {
            if reply.status == 200 {
                expect_ok_null(reply);
                true
            } else {
                expect_error(reply, 400);
                false
            }
        })
        .count()
}

#[test]
fn racing_buyers_share_the_offered_shares_exactly() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let stock = seller.create_stock(&unique("Scarce"));
    seller.add_stock(&stock, 100);
    expect_ok_null(&seller.place_sell(&stock, 100, 3));
    let buyers: Vec<Trader> = (0..16).map(|_| Trader::register(&api, "racer")).collect();
    for buyer in &buyers {
        buyer.deposit(1_000);
    }
    let replies = all_at_once(&buyers, |buyer| buyer.place_market_buy(&stock, 10));
    assert_eq!(
        successes(&replies),
        10,
        "100 shares feed exactly ten buys of 10"
    );
    assert_eq!(seller.balance(), json!(300));
    assert_eq!(seller.stock_transactions()[0]["order_status"], "COMPLETED");
    let mut accounts = vec![read_account(&seller)];
    accounts.extend(buyers.iter().map(read_account));
    let inflows = Inflows {
        deposits_cents: std::iter::once(0)
            .chain(buyers.iter().map(|_| 100_000))
            .collect(),
        shares_added: [(id_text(&stock), 100)].into_iter().collect(),
    };
    assert_eq!(check_invariants(&accounts, &inflows), Vec::<String>::new());
}

#[test]
fn one_buyers_cash_is_never_spent_twice_across_shards() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "spender");
    let stocks: Vec<Value> = (0..6)
        .map(|index| seller.create_stock(&unique(&format!("Shard{index}"))))
        .collect();
    for stock in &stocks {
        seller.add_stock(stock, 10);
        expect_ok_null(&seller.place_sell(stock, 10, 40));
    }
    buyer.deposit(1_000); // each buy costs 400: at most two can succeed
    let replies = all_at_once(&stocks, |stock| buyer.place_market_buy(stock, 10));
    let succeeded = successes(&replies);
    assert_eq!(succeeded, 2, "1000 pays for exactly two buys of 400");
    assert_eq!(cents(&buyer.balance()), 20_000);
    assert_eq!(cents(&seller.balance()), 80_000);
}

#[test]
fn cancels_racing_buys_keep_shares_and_cash_conserved() {
    let app = spawn_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let stock = seller.create_stock(&unique("Race"));
    seller.add_stock(&stock, 200);
    for price in [5, 6, 7, 8] {
        expect_ok_null(&seller.place_sell(&stock, 50, price));
    }
    let orders: Vec<Value> = seller
        .stock_transactions()
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|record| record["stock_tx_id"].clone())
                .collect()
        })
        .unwrap_or_default();
    let buyers: Vec<Trader> = (0..8).map(|_| Trader::register(&api, "taker")).collect();
    for buyer in &buyers {
        buyer.deposit(500);
    }
    enum Action<'a> {
        Buy(&'a Trader),
        Cancel(&'a Value),
    }
    let mut actions: Vec<Action<'_>> = buyers.iter().map(Action::Buy).collect();
    actions.extend(orders.iter().map(Action::Cancel));
    let replies = all_at_once(&actions, |action| match action {
        Action::Buy(buyer) => buyer.place_market_buy(&stock, 30),
        Action::Cancel(order) => seller.cancel(order),
    });
    successes(&replies);
    let mut accounts = vec![read_account(&seller)];
    accounts.extend(buyers.iter().map(read_account));
    let inflows = Inflows {
        deposits_cents: std::iter::once(0)
            .chain(buyers.iter().map(|_| 50_000))
            .collect(),
        shares_added: [(id_text(&stock), 200)].into_iter().collect(),
    };
    assert_eq!(check_invariants(&accounts, &inflows), Vec::<String>::new());
    let cancelled = orders.len()
        - replies[buyers.len()..]
            .iter()
            .filter(|reply| reply.status != 200)
            .count();
    let statuses: Vec<Value> = seller
        .stock_transactions()
        .as_array()
        .into_iter()
        .flatten()
        .filter(|record| record["parent_stock_tx_id"].is_null())
        .map(|record| record["order_status"].clone())
        .collect();
    let cancelled_now = statuses
        .iter()
        .filter(|status| **status == "CANCELLED")
        .count();
    assert_eq!(
        cancelled_now, cancelled,
        "every successful cancel shows as CANCELLED: {statuses:?}"
    );
}
