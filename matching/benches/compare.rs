//! Side-by-side throughput with the engines interleaved, for a shared and noisy machine.
//!
//! Criterion (`benches/throughput.rs`) measures one engine after the other, so a burst of load
//! from other processes lands on one engine and not the next. Here every round runs ours (full
//! mix), ours (peer mix), nanobook and matchcore back to back on the same workload, each from a
//! clone of its prefilled book; the ratios are taken within each round and the median over the
//! rounds is reported, so interference common to a round cancels out.
//!
//! Run: `cargo bench -p matching --bench compare -- [--rounds R] [--commands N]`
//! (defaults: 31 rounds of 200,000 commands per engine and workload).

#![allow(missing_docs)]

mod workload;

use std::hint::black_box;
use std::time::Instant;

use workload::{Spec, generate, peers, run_ours};

fn rate(commands: usize, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    commands as f64 / t.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One workload: per round, ops/s of [ours_full, ours, nanobook, matchcore].
fn rounds(spec: Spec, commands: usize, count: usize) -> Vec<[f64; 4]> {
    let full = generate(spec, commands);
    let peer = generate(spec.peer(), commands);
    let (nb_prefill, nb_stream, _) = peers::to_nanobook(&peer).expect("peer mix translates");
    let (mc_prefill, mc_stream) = peers::to_matchcore(&peer).expect("peer mix translates");
    let full_engine = full.prefilled_engine();
    let peer_engine = peer.prefilled_engine();
    let mut exchange = nanobook::Exchange::new();
    peers::run_nanobook(&mut exchange, &nb_prefill);
    let book = peers::matchcore_book(&mc_prefill);
    let mut out = Vec::with_capacity(1024);

    let mut results = Vec::with_capacity(count);
    for _ in 0..count {
        let mut e1 = full_engine.clone();
        let r1 = rate(commands, || {
            black_box(run_ours(&mut e1, &full.stream, &mut out));
        });
        let mut e2 = peer_engine.clone();
        let r2 = rate(commands, || {
            black_box(run_ours(&mut e2, &peer.stream, &mut out));
        });
        let mut nb = exchange.clone();
        let r3 = rate(commands, || {
            black_box(peers::run_nanobook(&mut nb, &nb_stream));
        });
        let mut mc = book.clone();
        let r4 = rate(commands, || {
            black_box(peers::run_matchcore(&mut mc, &mc_stream));
        });
        drop((e1, e2, nb, mc));
        results.push([r1, r2, r3, r4]);
    }
    results
}

fn main() {
    let (mut count, mut commands) = (31usize, 200_000usize);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rounds" => count = it.next().and_then(|v| v.parse().ok()).unwrap_or(count),
            "--commands" => commands = it.next().and_then(|v| v.parse().ok()).unwrap_or(commands),
            _ => {}
        }
    }
    println!(
        "interleaved, {count} rounds x {commands} commands; medians (M ops/s) and medians of per-round ratios"
    );
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>10} {:>11} {:>12}",
        "workload", "ours_full", "ours", "nanobook", "matchcore", "x nanobook", "x matchcore"
    );
    let mut normal_full = Vec::new();
    for spec in Spec::all() {
        let results = rounds(spec, commands, count);
        let col = |i: usize| median(results.iter().map(|r| r[i]).collect()) / 1e6;
        let vs_nb = median(results.iter().map(|r| r[1] / r[2]).collect());
        let vs_mc = median(results.iter().map(|r| r[1] / r[3]).collect());
        println!(
            "{:<8} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>11.2} {:>12.2}",
            spec.name,
            col(0),
            col(1),
            col(2),
            col(3),
            vs_nb,
            vs_mc
        );
        if spec.name == "normal" {
            normal_full = results.iter().map(|r| r[0]).collect();
        } else if spec.name == "deep" {
            let deep: Vec<f64> = results.iter().map(|r| r[0]).collect();
            println!(
                "         deep / normal (ours_full, medians): {:.2}",
                median(deep) / median(normal_full.clone())
            );
        }
    }
}
