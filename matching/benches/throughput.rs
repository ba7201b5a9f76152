//! Throughput of the documented workloads (see `workload/mod.rs`), one criterion group per
//! workload, every engine on the same generated stream in the same run:
//!
//! - `ours_full`: our engine on the full mix (with reduces);
//! - `ours`, `nanobook`, `matchcore`: the peer mix (no reduces), translated up front.
//!
//! Each iteration starts from a clone of the prefilled book (untimed setup) and applies the whole
//! stream; the throughput is commands per second. Run: `cargo bench -p matching --bench throughput`;
//! `python3 matching/benches/summary.py` prints ops/s and the ratios from criterion's estimates.

#![allow(missing_docs)]

mod workload;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use workload::{Spec, generate, peers, run_ours};

/// Commands per timed iteration.
const STREAM: usize = 200_000;

fn workloads(c: &mut Criterion) {
    for spec in Spec::all() {
        let full = generate(spec, STREAM);
        let peer = generate(spec.peer(), STREAM);
        let (nb_prefill, nb_stream, _) = peers::to_nanobook(&peer).expect("peer mix translates");
        let (mc_prefill, mc_stream) = peers::to_matchcore(&peer).expect("peer mix translates");

        let mut group = c.benchmark_group(spec.name);
        group.throughput(Throughput::Elements(STREAM as u64));

        let engine = full.prefilled_engine();
        group.bench_function("ours_full", |b| {
            let mut out = Vec::with_capacity(1024);
            b.iter_batched(
                || engine.clone(),
                |mut engine| black_box(run_ours(&mut engine, &full.stream, &mut out)),
                BatchSize::PerIteration,
            );
        });

        let engine = peer.prefilled_engine();
        group.bench_function("ours", |b| {
            let mut out = Vec::with_capacity(1024);
            b.iter_batched(
                || engine.clone(),
                |mut engine| black_box(run_ours(&mut engine, &peer.stream, &mut out)),
                BatchSize::PerIteration,
            );
        });

        let mut exchange = nanobook::Exchange::new();
        peers::run_nanobook(&mut exchange, &nb_prefill);
        group.bench_function("nanobook", |b| {
            b.iter_batched(
                || exchange.clone(),
                |mut exchange| black_box(peers::run_nanobook(&mut exchange, &nb_stream)),
                BatchSize::PerIteration,
            );
        });

        let book = peers::matchcore_book(&mc_prefill);
        group.bench_function("matchcore", |b| {
            b.iter_batched(
                || book.clone(),
                |mut book| black_box(peers::run_matchcore(&mut book, &mc_stream)),
                BatchSize::PerIteration,
            );
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = workloads
}
criterion_main!(benches);
