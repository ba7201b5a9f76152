//! Redis faults in the middle of a stream: FLUSHALL, then a restart (an empty Redis on the same
//! port), then Redis down for a while. The stream's traders re-read their own balance or
//! holdings after every answer (`StreamOptions::self_check`), so a wrong value served at any
//! moment fails the test; after each fault the served balances and holdings must be exactly the
//! ledger's. While Redis is down, every request that needs it answers 503 in the envelope and
//! changes nothing; everything works again once it is back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use system_tests::checks::expect_error;
use system_tests::stream::{Market, Outcome, Stream, StreamOptions, StreamReport};
use system_tests::topology::Topology;

use crate::{STREAM_DEADLINE, new_orders_work, stock_on, verified};

const SELF_CHECK: StreamOptions = StreamOptions { self_check: true };
/// Orders acknowledged before and after each fault.
const AROUND_A_FAULT: u64 = 60;

#[test]
fn redis_flush_restart_and_outage_never_serve_a_wrong_balance() {
    let mut topology = Topology::start();
    let _logs = topology.logs_on_panic();
    let market = Arc::new(Market::open(&topology.base_url(), 2, 2, [1, 1]));
    let mut report = StreamReport::default();

    report.extend(around_a_fault(&market, "FLUSHALL", || {
        topology.redis().flushall();
    }));
    verified("redis FLUSHALL", &market, &report);

    report.extend(around_a_fault(&market, "restart", || {
        topology.redis().restart();
    }));
    verified("redis restart", &market, &report);

    let before = market.read_accounts();
    topology.redis().stop();
    requests_needing_redis_answer_503(&market);
    let outage = Stream::start(&market, SELF_CHECK);
    outage.wait_for(
        "20 orders refused while Redis is down",
        STREAM_DEADLINE,
        |progress| progress.failed() >= 20,
    );
    let outage = outage.stop();
    println!("while Redis is down: {}", outage.summary());
    for sent in &outage.sent {
        assert_eq!(
            sent.outcome,
            Outcome::Failed(503),
            "while Redis is down: {:?}",
            sent.kind
        );
    }
    let restarted_at = Instant::now();
    topology.redis().restart();
    wait_until_balances_are_served(&market);
    println!(
        "MEASURE balances served again {:?} after Redis came back",
        restarted_at.elapsed()
    );
    assert!(
        market.read_accounts() == before,
        "the requests made while Redis was down changed something"
    );
    report.extend(outage);
    report.extend(new_orders_work(&market));
    verified("redis outage, then back", &market, &report);
}

/// A self-checking stream with `fault` applied after [`AROUND_A_FAULT`] acknowledgements; stops
/// once as many more were acknowledged after it.
fn around_a_fault(market: &Arc<Market>, label: &str, fault: impl FnOnce()) -> StreamReport {
    let stream = Stream::start(market, SELF_CHECK);
    stream.wait_for(
        "orders acknowledged before the fault",
        STREAM_DEADLINE,
        |p| p.acknowledged_total() >= AROUND_A_FAULT,
    );
    let at_fault = stream.progress().acknowledged_total();
    fault();
    stream.wait_for(
        "orders acknowledged after the fault",
        STREAM_DEADLINE,
        |progress| progress.acknowledged_total() >= at_fault + AROUND_A_FAULT,
    );
    let report = stream.stop();
    println!("redis {label}: {}", report.summary());
    assert!(
        report.checks > 0,
        "redis {label}: no self-check compared anything"
    );
    report
}

/// Reads and writes that go through the Redis cache, each answered 503 in the envelope.
fn requests_needing_redis_answer_503(market: &Market) {
    let (seller, buyer) = match (market.sellers.first(), market.buyers.first()) {
        (Some(seller), Some(buyer)) => (seller, buyer),
        _ => panic!("the market needs a seller and a buyer"),
    };
    let stock = stock_on(market, 0);
    let replies = [
        buyer.get("/transaction/getWalletBalance"),
        seller.get("/transaction/getStockPortfolio"),
        buyer.deposit_reply(5),
        seller.post(
            "/setup/addStockToUser",
            &json!({"stock_id": stock, "quantity": 5}),
        ),
        seller.place_sell(&stock, 1, 1_000),
        buyer.place_market_buy(&stock, 1),
    ];
    for reply in &replies {
        expect_error(reply, 503);
    }
}

/// Polls every trader's balance until it is served (the roles reconnect to Redis).
fn wait_until_balances_are_served(market: &Market) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for trader in market.traders() {
        loop {
            let reply = trader.api().try_request(
                Method::GET,
                "/transaction/getWalletBalance",
                trader.auth(),
                None,
            );
            if reply.is_ok_and(|reply| reply.status == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "balances are not served 60 s after Redis came back"
            );
            // Polling a condition with a deadline.
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
