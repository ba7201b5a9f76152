//! Scenario tables for time in force, quote caps, stops, post-only, reduce, cancel and rejects.

mod support;

use support::run_scenario;

#[test]
fn fok_that_would_only_partly_fill_leaves_the_book_untouched() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100                   => rests
        #2 u2 sell 5 @ 101                   => rests
        #3 u9 buy 11 @ 101 fok               => done #3 expired(fok) 11 left
        book                                 => ask 101: #2 5 | ask 100: #1 5
        #4 u9 buy 10 @ 100 fok               => done #4 expired(fok) 10 left
        #5 u9 buy 10 @ 101 fok               => T #1<-#5 5@100, done #1 filled, T #2<-#5 5@101, done #2 filled, done #5 filled
        book                                 => empty
        ",
    );
}

#[test]
fn fok_does_not_count_own_orders_and_does_not_cancel_them_when_it_fails() {
    run_scenario(
        "
        #1 u9 sell 5 @ 100                   => rests
        #2 u2 sell 5 @ 100                   => rests
        #3 u9 buy 10 @ 100 fok stp=cancel-oldest => done #3 expired(fok) 10 left
        book                                 => ask 100: #1 5, #2 5
        #4 u3 sell 5 @ 100                   => rests
        #5 u9 buy 10 @ 100 fok stp=cancel-oldest => done #1 cancelled(stp) 5 left, T #2<-#5 5@100, done #2 filled, T #4<-#5 5@100, done #4 filled, done #5 filled
        ",
    );
}

#[test]
fn course_market_buy_is_all_or_nothing_within_its_cap() {
    run_scenario(
        "
        #1 u1 sell 10 @ 100                  => rests
        #2 u2 buy 10 market cap 999 fok      => done #2 expired(fok) 10 left
        #3 u2 buy 11 market cap 5000 fok     => done #3 expired(fok) 11 left
        #4 u1 buy 10 market cap 5000 fok     => done #4 expired(fok) 10 left
        book                                 => ask 100: #1 10
        #5 u2 buy 10 market cap 1000 fok     => T #1<-#5 10@100, done #1 filled, done #5 filled
        ",
    );
}

#[test]
fn market_buy_quote_cap_stops_exactly_at_what_it_affords() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100                   => rests
        #2 u1 sell 5 @ 150                   => rests
        #3 u9 buy 10 market cap 999          => T #1<-#3 5@100, done #1 filled, T #2<-#3 3@150, done #3 expired(cap) 2 left
        book                                 => ask 150: #2 2
        #4 u9 buy 2 market cap 299           => T #2<-#4 1@150, done #4 expired(cap) 1 left
        #5 u9 buy 1 market cap 150           => T #2<-#5 1@150, done #2 filled, done #5 filled
        ",
    );
}

#[test]
fn stop_orders_wait_trigger_on_the_last_trade_and_cascade_in_order() {
    run_scenario(
        "
        #1 u1 sell 5 @ 103                   => rests
        #2 u1 sell 5 @ 102                   => rests
        #3 u2 buy 2 market stop 101          => rests
        #4 u3 buy 3 market stop 102          => rests
        #5 u4 sell 1 @ 101                   => rests
        book                                 => ask 103: #1 5 | ask 102: #2 5 | ask 101: #5 1
        #6 u5 buy 1 @ 101                    => T #5<-#6 1@101, done #5 filled, done #6 filled, triggered #3, T #2<-#3 2@102, done #3 filled, triggered #4, T #2<-#4 3@102, done #2 filled, done #4 filled
        book                                 => ask 103: #1 5
        ",
    );
}

#[test]
fn stops_triggered_by_the_same_trade_run_in_arrival_order() {
    run_scenario(
        "
        #1 u1 sell 10 @ 100                  => rests
        #2 u2 buy 1 market stop 100          => rests
        #3 u3 buy 1 market stop 99           => rests
        #4 u4 buy 1 @ 100                    => T #1<-#4 1@100, done #4 filled, triggered #2, T #1<-#2 1@100, done #2 filled, triggered #3, T #1<-#3 1@100, done #3 filled
        ",
    );
}

#[test]
fn sell_stop_limit_rests_after_trigger_and_a_reached_stop_triggers_at_once() {
    run_scenario(
        "
        #1 u1 buy 5 @ 100                    => rests
        #2 u2 sell 3 @ 101 stop 100          => rests
        #3 u3 sell 1 @ 100                   => T #1<-#3 1@100, done #3 filled, triggered #2
        book                                 => ask 101: #2 3 | bid 100: #1 4
        #4 u4 sell 1 @ 90 stop 105           => triggered #4, T #1<-#4 1@100, done #4 filled
        cancel #2 u2                         => done #2 cancelled 3 left
        ",
    );
}

#[test]
fn waiting_stops_can_be_reduced_and_cancelled() {
    run_scenario(
        "
        #1 u1 buy 5 market stop 100          => rests
        reduce #1 u1 by 2                    => reduced #1 to 3
        cancel #1 u2                         => rejected #1 not-owner
        cancel #1 u1                         => done #1 cancelled 3 left
        cancel #1 u1                         => rejected #1 unknown-order
        ",
    );
}

#[test]
fn post_only_rests_or_is_rejected_when_it_would_take() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100                   => rests
        #2 u2 buy 5 @ 100 post               => rejected #2 post-only-would-take
        #3 u2 buy 5 @ 99 post                => rests
        #4 u1 buy 5 @ 100 post               => rejected #4 post-only-would-take
        book                                 => ask 100: #1 5 | bid 99: #3 5
        ",
    );
}

#[test]
fn reduce_keeps_queue_priority_and_reducing_to_nothing_cancels() {
    run_scenario(
        "
        #1 u1 sell 10 @ 100                  => rests
        #2 u2 sell 10 @ 100                  => rests
        reduce #1 u1 by 4                    => reduced #1 to 6
        book                                 => ask 100: #1 6, #2 10
        #3 u9 buy 7 @ 100                    => T #1<-#3 6@100, done #1 filled, T #2<-#3 1@100, done #3 filled
        reduce #2 u2 by 0                    => rejected #2 zero-quantity
        reduce #2 u2 by 9                    => done #2 cancelled(reduced) 9 left
        book                                 => empty
        ",
    );
}

#[test]
fn cancel_all_cancels_resting_and_waiting_orders_oldest_first() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100                   => rests
        #2 u2 sell 5 @ 100                   => rests
        #3 u1 buy 5 @ 90                     => rests
        #4 u1 buy 5 market stop 120          => rests
        cancel-all u1                        => done #1 cancelled 5 left, done #3 cancelled 5 left, done #4 cancelled 5 left
        book                                 => ask 100: #2 5
        cancel-all u1                        => rejected #0 nothing-to-cancel
        ",
    );
}

#[test]
fn stale_cancels_and_id_reuse_are_rejected_not_errors() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100                   => rests
        #2 u2 buy 5 @ 100                    => T #1<-#2 5@100, done #1 filled, done #2 filled
        cancel #1 u1                         => rejected #1 unknown-order
        #1 u1 sell 5 @ 100                   => rejected #1 duplicate-id
        #3 u1 sell 5 @ 100                   => rests
        cancel #3 u2                         => rejected #3 not-owner
        cancel #3 u1                         => done #3 cancelled 5 left
        #3 u1 sell 5 @ 100                   => rejected #3 duplicate-id
        #2 u1 sell 5 @ 100                   => rejected #2 duplicate-id
        cancel #42 u1                        => rejected #42 unknown-order
        book                                 => empty
        ",
    );
}

#[test]
fn invalid_orders_are_rejected_in_precedence_order_and_change_nothing() {
    run_scenario(
        "
        #1 u1 sell 0 @ 0                     => rejected #1 zero-quantity
        #1 u1 sell 5 @ 0                     => rejected #1 zero-price
        #1 u1 sell 5 market stop 0           => rejected #1 zero-price
        #1 u1 sell 5 market cap 10           => rejected #1 invalid-quote-cap
        #1 u1 buy 5 market cap 0             => rejected #1 invalid-quote-cap
        #1 u1 buy 5 market gtc               => rejected #1 invalid-tif
        #1 u1 buy 5 @ 100 ioc post           => rejected #1 invalid-tif
        #1 u1 buy 5 @ 100 post stop 90       => rejected #1 invalid-tif
        book                                 => empty
        #1 u1 buy 5 @ 100                    => rests
        ",
    );
}

#[test]
fn quantities_and_notionals_use_the_full_64_bits() {
    run_scenario(
        "
        #1 u1 sell 15_509_763_000 @ 18_446_744_073_709_551_615 => rests
        #2 u2 buy 15_509_763_000 market                        => T #1<-#2 15509763000@18446744073709551615, done #1 filled, done #2 filled
        #3 u1 sell 18_446_744_073_709_551_615 @ 1              => rests
        #4 u2 sell 18_446_744_073_709_551_615 @ 1              => done #4 cancelled(level-full) 18446744073709551615 left
        book                                                   => ask 1: #3 18446744073709551615
        ",
    );
}
