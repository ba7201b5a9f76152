//! Scenario tables for price-time priority: FIFO queues, sweeps, residuals, best prices.

mod support;

use support::run_scenario;

#[test]
fn cancel_head_and_middle_of_a_fifo_queue_then_sweep() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100        => rests
        #2 u2 sell 5 @ 100        => rests
        #3 u3 sell 5 @ 100        => rests
        #4 u4 sell 5 @ 100        => rests
        cancel #1 u1              => done #1 cancelled 5 left
        cancel #3 u3              => done #3 cancelled 5 left
        book                      => ask 100: #2 5, #4 5
        #5 u9 buy 10 @ 100        => T #2<-#5 5@100, done #2 filled, T #4<-#5 5@100, done #4 filled, done #5 filled
        book                      => empty
        ",
    );
}

#[test]
fn multi_level_ioc_sweep_takes_best_price_first_and_prints_at_maker_prices() {
    run_scenario(
        "
        #1 u1 sell 5 @ 102        => rests
        #2 u1 sell 5 @ 100        => rests
        #3 u2 sell 5 @ 101        => rests
        #4 u9 buy 12 @ 102 ioc    => T #2<-#4 5@100, done #2 filled, T #3<-#4 5@101, done #3 filled, T #1<-#4 2@102, done #4 filled
        book                      => ask 102: #1 3
        ",
    );
}

#[test]
fn ioc_residual_never_rests() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100        => rests
        #2 u9 buy 8 @ 101 ioc     => T #1<-#2 5@100, done #1 filled, done #2 expired(ioc) 3 left
        book                      => empty
        #3 u9 buy 8 @ 101 ioc     => done #3 expired(ioc) 8 left
        book                      => empty
        ",
    );
}

#[test]
fn residual_limit_becomes_the_new_best_price() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100        => rests
        #2 u1 sell 5 @ 103        => rests
        #3 u2 buy 5 @ 98          => rests
        #4 u9 buy 8 @ 101         => T #1<-#4 5@100, done #1 filled
        book                      => ask 103: #2 5 | bid 101: #4 3 | bid 98: #3 5
        #5 u3 sell 1 @ 99         => T #4<-#5 1@101, done #5 filled
        ",
    );
}

#[test]
fn marketable_limit_stops_at_its_own_price() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100        => rests
        #2 u1 sell 5 @ 101        => rests
        #3 u1 sell 5 @ 102        => rests
        #4 u9 buy 20 @ 101        => T #1<-#4 5@100, done #1 filled, T #2<-#4 5@101, done #2 filled
        book                      => ask 102: #3 5 | bid 101: #4 10
        ",
    );
}

#[test]
fn partially_filled_maker_keeps_the_front_of_its_queue_across_commands() {
    run_scenario(
        "
        #1 u1 sell 10 @ 100       => rests
        #2 u2 sell 10 @ 100       => rests
        #3 u9 buy 4 @ 100         => T #1<-#3 4@100, done #3 filled
        #4 u3 sell 10 @ 100       => rests
        #5 u3 buy 1 @ 90          => rests
        book                      => ask 100: #1 6, #2 10, #4 10 | bid 90: #5 1
        #6 u9 buy 7 @ 100         => T #1<-#6 6@100, done #1 filled, T #2<-#6 1@100, done #6 filled
        book                      => ask 100: #2 9, #4 10 | bid 90: #5 1
        ",
    );
}

#[test]
fn no_phantom_best_price_after_cancelling_the_whole_top_level() {
    let book = run_scenario(
        "
        #1 u1 sell 5 @ 100        => rests
        #2 u2 sell 5 @ 100        => rests
        #3 u1 sell 5 @ 105        => rests
        cancel #1 u1              => done #1 cancelled 5 left
        cancel #2 u2              => done #2 cancelled 5 left
        book                      => ask 105: #3 5
        #4 u9 buy 5 @ 100         => rests
        book                      => ask 105: #3 5 | bid 100: #4 5
        ",
    );
    assert_eq!(book.best_ask().map(|l| l.price.0), Some(105));
    assert_eq!(book.best_bid().map(|l| l.price.0), Some(100));
}

#[test]
fn market_sell_sweeps_bids_best_first() {
    run_scenario(
        "
        #1 u1 buy 5 @ 99          => rests
        #2 u2 buy 5 @ 100         => rests
        #3 u9 sell 7 market       => T #2<-#3 5@100, done #2 filled, T #1<-#3 2@99, done #3 filled
        book                      => bid 99: #1 3
        #4 u9 sell 9 market       => T #1<-#4 3@99, done #1 filled, done #4 expired(ioc) 6 left
        ",
    );
}

#[test]
fn sweep_of_five_thousand_makers_at_one_price_fills_in_arrival_order() {
    let mut table = String::new();
    let mut expected = Vec::new();
    for id in 1..=5_000u64 {
        table.push_str(&format!("#{id} u{} sell 1 @ 100 => rests\n", id % 7 + 1));
        expected.push(format!("T #{id}<-#5001 1@100, done #{id} filled"));
    }
    expected.push("done #5001 filled".into());
    table.push_str(&format!(
        "#5001 u9 buy 5000 @ 100 => {}\nbook => empty\n",
        expected.join(", ")
    ));
    run_scenario(&table);
}
