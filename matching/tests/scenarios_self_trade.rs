//! Scenario tables for self-trade prevention: every mode against one and several own orders,
//! including own orders interleaved with other users' orders at one level.

mod support;

use support::run_scenario;

#[test]
fn skip_passes_over_own_orders_which_stay_and_never_rests_crossed() {
    run_scenario(
        "
        #1 u1 sell 5 @ 100                   => rests
        #2 u2 sell 5 @ 100                   => rests
        #3 u1 buy 8 @ 100                    => T #2<-#3 5@100, done #2 filled, done #3 cancelled(stp) 3 left
        book                                 => ask 100: #1 5
        ",
    );
}

#[test]
fn skip_residual_rests_when_it_does_not_cross_own_orders() {
    run_scenario(
        "
        #1 u1 sell 5 @ 101                   => rests
        #2 u2 sell 5 @ 100                   => rests
        #3 u1 buy 8 @ 100                    => T #2<-#3 5@100, done #2 filled
        book                                 => ask 101: #1 5 | bid 100: #3 3
        ",
    );
}

#[test]
fn skip_with_own_orders_interleaved_at_one_level() {
    run_scenario(
        "
        #1 u2 sell 2 @ 100                   => rests
        #2 u1 sell 2 @ 100                   => rests
        #3 u3 sell 2 @ 100                   => rests
        #4 u1 sell 2 @ 100                   => rests
        #5 u1 buy 6 @ 100 ioc                => T #1<-#5 2@100, done #1 filled, T #3<-#5 2@100, done #3 filled, done #5 expired(ioc) 2 left
        book                                 => ask 100: #2 2, #4 2
        ",
    );
}

#[test]
fn cancel_newest_cancels_the_taker_at_the_first_own_order() {
    run_scenario(
        "
        #1 u2 sell 2 @ 100                   => rests
        #2 u1 sell 2 @ 100                   => rests
        #3 u3 sell 2 @ 100                   => rests
        #4 u1 buy 6 @ 100 stp=cancel-newest  => T #1<-#4 2@100, done #1 filled, done #4 cancelled(stp) 4 left
        book                                 => ask 100: #2 2, #3 2
        ",
    );
}

#[test]
fn cancel_oldest_cancels_each_own_resting_order_and_goes_on() {
    run_scenario(
        "
        #1 u2 sell 2 @ 100                   => rests
        #2 u1 sell 2 @ 100                   => rests
        #3 u3 sell 2 @ 100                   => rests
        #4 u1 buy 6 @ 100 stp=cancel-oldest  => T #1<-#4 2@100, done #1 filled, done #2 cancelled(stp) 2 left, T #3<-#4 2@100, done #3 filled
        book                                 => bid 100: #4 2
        ",
    );
}

#[test]
fn cancel_oldest_against_several_own_orders_over_levels() {
    run_scenario(
        "
        #1 u1 sell 1 @ 100                   => rests
        #2 u1 sell 1 @ 100                   => rests
        #3 u2 sell 1 @ 101                   => rests
        #4 u1 sell 1 @ 101                   => rests
        #5 u1 buy 3 @ 101 stp=cancel-oldest  => done #1 cancelled(stp) 1 left, done #2 cancelled(stp) 1 left, T #3<-#5 1@101, done #3 filled, done #4 cancelled(stp) 1 left
        book                                 => bid 101: #5 2
        ",
    );
}

#[test]
fn cancel_both_cancels_the_resting_order_and_the_taker() {
    run_scenario(
        "
        #1 u2 sell 2 @ 100                   => rests
        #2 u1 sell 2 @ 100                   => rests
        #3 u3 sell 2 @ 100                   => rests
        #4 u1 buy 6 @ 100 stp=cancel-both    => T #1<-#4 2@100, done #1 filled, done #2 cancelled(stp) 2 left, done #4 cancelled(stp) 4 left
        book                                 => ask 100: #3 2
        ",
    );
}

#[test]
fn decrement_cancels_the_smaller_and_reduces_the_larger() {
    run_scenario(
        "
        #1 u1 sell 3 @ 100                   => rests
        #2 u2 sell 5 @ 100                   => rests
        #3 u1 buy 5 @ 100 stp=decrement      => done #1 cancelled(stp) 3 left, reduced #3 to 2, T #2<-#3 2@100, done #3 cancelled(stp)
        book                                 => ask 100: #2 3
        #4 u2 buy 1 @ 100 stp=decrement      => reduced #2 to 2, done #4 cancelled(stp)
        book                                 => ask 100: #2 2
        #5 u2 buy 2 @ 100 stp=decrement      => done #2 cancelled(stp) 2 left, done #5 cancelled(stp)
        book                                 => empty
        ",
    );
}

#[test]
fn decrement_against_several_own_orders_then_rests() {
    run_scenario(
        "
        #1 u1 sell 2 @ 100                   => rests
        #2 u2 sell 2 @ 100                   => rests
        #3 u1 sell 2 @ 100                   => rests
        #4 u1 buy 10 @ 100 stp=decrement     => done #1 cancelled(stp) 2 left, reduced #4 to 8, T #2<-#4 2@100, done #2 filled, done #3 cancelled(stp) 2 left, reduced #4 to 4
        book                                 => bid 100: #4 4
        ",
    );
}

#[test]
fn self_trade_never_executes_for_market_orders_either() {
    run_scenario(
        "
        #1 u1 buy 5 @ 100                    => rests
        #2 u1 sell 5 market                  => done #2 expired(ioc) 5 left
        book                                 => bid 100: #1 5
        ",
    );
}
