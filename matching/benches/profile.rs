//! A closed-loop driver for profilers: applies one workload's stream to a clone of its prefilled
//! book, `--reps` times, and prints the rate. For `valgrind --tool=callgrind` or `perf record`.
//!
//! Run: `cargo bench -p matching --bench profile -- [--workload normal|deep|fast] [--peer]
//! [--engine ours|nanobook|matchcore] [--commands N] [--reps R]` (a peer engine implies `--peer`).

#![allow(missing_docs)]

mod workload;

use std::hint::black_box;
use std::time::Instant;

use workload::{Spec, generate, peers, run_ours};

fn main() {
    let mut spec = Spec::normal();
    let (mut peer, mut commands, mut reps) = (false, 200_000usize, 10usize);
    let mut engine_name = String::from("ours");
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--workload" => spec = it.next().and_then(|n| Spec::by_name(&n)).unwrap_or(spec),
            "--peer" => peer = true,
            "--engine" => engine_name = it.next().unwrap_or_default(),
            "--commands" => commands = it.next().and_then(|v| v.parse().ok()).unwrap_or(commands),
            "--reps" => reps = it.next().and_then(|v| v.parse().ok()).unwrap_or(reps),
            _ => {}
        }
    }
    if peer || engine_name != "ours" {
        peer = true;
        spec = spec.peer();
    }
    let workload = generate(spec, commands);
    let counts = workload.op_counts();
    let mut rates = Vec::new();
    match engine_name.as_str() {
        "nanobook" => {
            let (prefill, stream, _) = peers::to_nanobook(&workload).expect("peer mix translates");
            let mut exchange = nanobook::Exchange::new();
            peers::run_nanobook(&mut exchange, &prefill);
            for _ in 0..reps {
                let mut exchange = exchange.clone();
                let t = Instant::now();
                black_box(peers::run_nanobook(&mut exchange, &stream));
                rates.push(commands as f64 / t.elapsed().as_secs_f64() / 1e6);
            }
        }
        "matchcore" => {
            let (prefill, stream) = peers::to_matchcore(&workload).expect("peer mix translates");
            let book = peers::matchcore_book(&prefill);
            for _ in 0..reps {
                let mut book = book.clone();
                let t = Instant::now();
                black_box(peers::run_matchcore(&mut book, &stream));
                rates.push(commands as f64 / t.elapsed().as_secs_f64() / 1e6);
            }
        }
        _ => {
            let engine = workload.prefilled_engine();
            let mut out = Vec::with_capacity(1024);
            for _ in 0..reps {
                let mut engine = engine.clone();
                let t = Instant::now();
                black_box(run_ours(&mut engine, &workload.stream, &mut out));
                rates.push(commands as f64 / t.elapsed().as_secs_f64() / 1e6);
            }
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{engine_name} on {}{}: place/cancel/take/reduce = {:?}; median {:.2} M ops/s over {reps} reps",
        spec.name,
        if peer { " (peer mix)" } else { "" },
        counts,
        rates[rates.len() / 2]
    );
}
