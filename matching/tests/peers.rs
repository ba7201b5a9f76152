//! Agreement with the peer crates used in the benchmarks: on streams they all support (GTC
//! limits, cancels of live orders, IOC limits and market orders, one user per order so that no
//! self-trade prevention triggers), nanobook 0.19 and matchcore 0.4 print exactly our trades:
//! the same prices and quantities between the same maker and taker, in the same order.
//! Only then is comparing their speed meaningful (see `benches/throughput.rs`).

#![allow(missing_docs)]

#[path = "../benches/workload/mod.rs"]
mod workload;

use workload::peers::{self, Print};
use workload::{Spec, generate};

fn first_difference(ours: &[Print], theirs: &[Print]) -> Option<usize> {
    (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i))
}

fn check(spec: Spec) {
    let workload = generate(spec.peer(), 20_000);
    let ours = peers::our_prints(&workload);
    assert!(
        ours.len() > 1_000,
        "{}: too few trades ({}) to compare",
        spec.name,
        ours.len()
    );

    let (prefill, stream, ids) = peers::to_nanobook(&workload).expect("translatable to nanobook");
    let mut exchange = nanobook::Exchange::new();
    peers::run_nanobook(&mut exchange, &prefill);
    let nb = peers::nanobook_prints(&mut exchange, &stream, &ids);
    if let Some(i) = first_difference(&ours, &nb) {
        panic!(
            "{}: nanobook differs at trade {i}: ours {:?}, nanobook {:?}",
            spec.name,
            ours.get(i),
            nb.get(i)
        );
    }

    let (prefill, stream) = peers::to_matchcore(&workload).expect("translatable to matchcore");
    let mut book = peers::matchcore_book(&prefill);
    let mc = peers::matchcore_prints(&mut book, &stream);
    if let Some(i) = first_difference(&ours, &mc) {
        panic!(
            "{}: matchcore differs at trade {i}: ours {:?}, matchcore {:?}",
            spec.name,
            ours.get(i),
            mc.get(i)
        );
    }
}

#[test]
fn peers_print_our_trades_on_the_normal_mix() {
    check(Spec::normal());
}

#[test]
fn peers_print_our_trades_on_the_deep_book() {
    check(Spec::deep());
}

#[test]
fn peers_print_our_trades_on_the_fast_moving_mix() {
    check(Spec::fast());
}

#[test]
fn a_reduce_is_not_translated_for_the_peers() {
    let workload = generate(Spec::normal(), 2_000);
    assert!(workload.ops.contains(&workload::Op::Reduce));
    assert!(peers::to_nanobook(&workload).is_err());
    assert!(peers::to_matchcore(&workload).is_err());
}

/// The check has teeth: on the unbounded stream (limits that cross and must stop at their limit
/// price mid-sweep) matchcore 0.4.0 trades past the limit, and the comparison sees it.
#[test]
fn the_check_catches_matchcore_sweeping_past_a_limit_price() {
    let spec = Spec {
        bounded: false,
        ..Spec::normal().peer()
    };
    let workload = generate(spec, 20_000);
    let ours = peers::our_prints(&workload);
    let (prefill, stream) = peers::to_matchcore(&workload).expect("translatable to matchcore");
    let mut book = peers::matchcore_book(&prefill);
    let mc = peers::matchcore_prints(&mut book, &stream);
    let i = first_difference(&ours, &mc).expect("matchcore 0.4.0 differs on crossing limits");
    let taker_limit_exceeded = mc[i].price > ours.get(i).map_or(0, |p| p.price);
    assert!(taker_limit_exceeded || mc[i] != ours[i]);
}
