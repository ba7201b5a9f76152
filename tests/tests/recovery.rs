//! Crash recovery: acknowledged work survives `kill -9`, the restarted exchange answers every read
//! identically, resting orders still match, and new ids never collide with old ones.
//!
//! Always starts its own process (it must kill it), even when `EXCHANGE_BASE_URL` is set.

use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use system_tests::app::{TestApp, spawn_local_app};
use system_tests::checks::expect_ok_null;
use system_tests::http::Reply;
use system_tests::ledger::{AccountView, Inflows, check_invariants, id_text, list, read_account};
use system_tests::money::cents;
use system_tests::names::unique;
use system_tests::trader::Trader;

/// Every read of every user, plus the price list.
#[derive(Debug, PartialEq)]
struct Everything {
    accounts: Vec<AccountView>,
    prices: Value,
}

fn read_everything(traders: &[Trader]) -> Everything {
    Everything {
        accounts: traders.iter().map(read_account).collect(),
        prices: traders[0].prices(),
    }
}

fn restart_after_kill9(app: &mut TestApp, traders: &[Trader]) -> Vec<Trader> {
    app.kill9();
    app.restart();
    let api = app.api();
    traders.iter().map(|trader| trader.with_api(&api)).collect()
}

#[test]
fn state_survives_kill9_and_resting_orders_still_match() {
    let mut app = spawn_local_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let google = seller.create_stock(&unique("Google"));
    let apple = seller.create_stock(&unique("Apple"));
    seller.add_stock(&google, 550);
    seller.add_stock(&apple, 350);
    expect_ok_null(&seller.place_sell(&google, 550, 135));
    expect_ok_null(&seller.place_sell(&apple, 300, 140));
    expect_ok_null(&seller.place_sell(&apple, 50, 141.5));
    buyer.deposit(100_000);
    expect_ok_null(&buyer.place_market_buy(&google, 10));
    expect_ok_null(&buyer.place_market_buy(&apple, 310));
    let cancelled = seller.stock_transactions()[0]["stock_tx_id"].clone();
    expect_ok_null(&seller.cancel(&cancelled));
    buyer.add_stock(&google, 7);
    expect_ok_null(&buyer.place_sell(&google, 5, 99));
    let traders = vec![seller, buyer];
    let before = read_everything(&traders);

    let traders = restart_after_kill9(&mut app, &traders);
    let after = read_everything(&traders);
    assert_eq!(
        after, before,
        "every read is identical after kill -9 and restart"
    );
    let inflows = Inflows {
        deposits_cents: vec![0, 10_000_000],
        shares_added: [(id_text(&google), 557), (id_text(&apple), 350)]
            .into_iter()
            .collect(),
    };
    assert_eq!(
        check_invariants(&after.accounts, &inflows),
        Vec::<String>::new()
    );
    let relogged = Trader::login(&app.api(), &traders[0].user_name);
    assert_eq!(
        relogged.balance(),
        traders[0].balance(),
        "login works after a restart"
    );

    let (seller, buyer) = (&traders[0], &traders[1]);
    expect_ok_null(&buyer.place_market_buy(&apple, 30));
    assert_eq!(
        seller.balance(),
        json!(10 * 135 + 300 * 140 + 40 * 1415 / 10)
    );
    let records = seller.stock_transactions();
    let resting_ask = records[2]["stock_tx_id"].clone();
    assert_eq!(
        records[1]["order_status"], "COMPLETED",
        "the 140 ask filled before the crash"
    );
    assert_eq!(records[2]["order_status"], "PARTIALLY_COMPLETE");
    let last = &list(&records)[list(&records).len() - 1];
    assert_eq!(
        (&last["parent_stock_tx_id"], &last["quantity"]),
        (&resting_ask, &json!(30)),
        "the resting 141.5 ask matched after the restart"
    );
    expect_ok_null(&seller.place_sell(&google, 1, 150));
    assert_fresh_ids_are_unique(&traders);
}

#[test]
fn work_after_a_restart_survives_a_second_kill9() {
    let mut app = spawn_local_app();
    let api = app.api();
    let seller = Trader::register(&api, "seller");
    let buyer = Trader::register(&api, "buyer");
    let stock = seller.create_stock(&unique("Twice"));
    seller.add_stock(&stock, 100);
    expect_ok_null(&seller.place_sell(&stock, 60, 2));
    let traders = restart_after_kill9(&mut app, &[seller, buyer]);
    traders[1].deposit(500);
    expect_ok_null(&traders[1].place_market_buy(&stock, 25));
    expect_ok_null(&traders[0].place_sell(&stock, 40, 3));
    let before = read_everything(&traders);
    let traders = restart_after_kill9(&mut app, &traders);
    assert_eq!(read_everything(&traders), before);
    expect_ok_null(&traders[1].place_market_buy(&stock, 50));
    assert_eq!(traders[1].balance(), json!(500 - 25 * 2 - 35 * 2 - 15 * 3));
    assert_fresh_ids_are_unique(&traders);
}

/// Every stock and wallet transaction id across all users is distinct.
fn assert_fresh_ids_are_unique(traders: &[Trader]) {
    let mut ids: Vec<String> = Vec::new();
    for trader in traders {
        for record in list(&trader.stock_transactions()) {
            ids.push(format!("stock:{}", id_text(&record["stock_tx_id"])));
        }
        for record in list(&trader.wallet_transactions()) {
            ids.push(format!("wallet:{}", id_text(&record["wallet_tx_id"])));
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate transaction ids after restarts");
}

/// Counts of one writer thread: answers acknowledged with 200, and requests sent.
#[derive(Default)]
struct WriterCounts {
    acknowledged: AtomicU64,
    attempted: AtomicU64,
}

/// Sends `request` until the transport fails (the process was killed); counts 200s.
fn write_until_killed(counts: &WriterCounts, request: impl Fn() -> Result<Reply, reqwest::Error>) {
    loop {
        counts.attempted.fetch_add(1, Ordering::SeqCst);
        match request() {
            Ok(reply) if reply.status == 200 => {
                counts.acknowledged.fetch_add(1, Ordering::SeqCst);
            }
            Ok(reply) => panic!(
                "unexpected answer while writing: {} {}",
                reply.status, reply.text
            ),
            Err(_) => return,
        }
    }
}

#[test]
fn acknowledged_writes_survive_a_kill9_in_the_middle_of_a_stream() {
    const MINIMUM_ACKS: u64 = 40;
    let mut app = spawn_local_app();
    let api = app.api();
    let seller = Trader::register(&api, "streamer");
    let buyer = Trader::register(&api, "depositor");
    let stock = seller.create_stock(&unique("Stream"));
    seller.add_stock(&stock, 1_000_000);
    let (deposits, sells) = (WriterCounts::default(), WriterCounts::default());
    let deposit_body = json!({"amount": 1}).to_string();
    let sell_body = json!({"stock_id": stock, "is_buy": false, "order_type": "LIMIT", "quantity": 1, "price": 1}).to_string();
    thread::scope(|scope| {
        scope.spawn(|| {
            write_until_killed(&deposits, || {
                buyer.api().try_request(
                    Method::POST,
                    "/transaction/addMoneyToWallet",
                    buyer.auth(),
                    Some(deposit_body.clone()),
                )
            });
        });
        scope.spawn(|| {
            write_until_killed(&sells, || {
                seller.api().try_request(
                    Method::POST,
                    "/engine/placeStockOrder",
                    seller.auth(),
                    Some(sell_body.clone()),
                )
            });
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while deposits.acknowledged.load(Ordering::SeqCst) < MINIMUM_ACKS
            || sells.acknowledged.load(Ordering::SeqCst) < MINIMUM_ACKS
        {
            assert!(Instant::now() < deadline, "the writers got too few answers");
            thread::sleep(Duration::from_millis(1));
        }
        app.kill9(); // the writers stop at their first transport error
    });
    let traders = restart_after_kill9_done(&mut app, &[seller, buyer]);
    let (seller, buyer) = (&traders[0], &traders[1]);

    let balance_cents = cents(&buyer.balance());
    let (acked, attempted) = (
        deposits.acknowledged.load(Ordering::SeqCst),
        deposits.attempted.load(Ordering::SeqCst),
    );
    assert!(
        i128::from(acked) * 100 <= balance_cents && balance_cents <= i128::from(attempted) * 100,
        "balance {balance_cents} cents: every acknowledged deposit ({acked}) and no more than sent ({attempted})"
    );
    let orders = list(&seller.stock_transactions()).len() as u64;
    let (acked, attempted) = (
        sells.acknowledged.load(Ordering::SeqCst),
        sells.attempted.load(Ordering::SeqCst),
    );
    assert!(
        acked <= orders && orders <= attempted,
        "{orders} sell records: acknowledged {acked}, sent {attempted}"
    );
    let accounts = vec![read_account(seller), read_account(buyer)];
    let inflows = Inflows {
        deposits_cents: vec![0, balance_cents],
        shares_added: [(id_text(&stock), 1_000_000)].into_iter().collect(),
    };
    assert_eq!(check_invariants(&accounts, &inflows), Vec::<String>::new());
    expect_ok_null(&buyer.place_market_buy(&stock, 10));
    assert_eq!(
        cents(&buyer.balance()),
        balance_cents - 1_000,
        "the recovered asks still match"
    );
}

/// Restarts a process that was already killed.
fn restart_after_kill9_done(app: &mut TestApp, traders: &[Trader]) -> Vec<Trader> {
    app.restart();
    let api = app.api();
    traders.iter().map(|trader| trader.with_api(&api)).collect()
}
