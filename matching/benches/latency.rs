//! Open-loop latency at a constant offered rate, without coordinated omission.
//!
//! Command i of the generated stream is *scheduled* at `start + i / rate`; the loop spins until
//! that instant, applies the command, and records `done - scheduled` in an HDR histogram for the
//! command's operation type (place, cancel, take, reduce). A command that waits behind a slow
//! one is charged the wait, as a real client sending at that rate would see it. The timer
//! (`Instant::now`, TSC clock source here) costs ~20-30 ns and is included.
//!
//! Each run starts from a clone of the prefilled book; runs are merged into one histogram per
//! operation. Also prints the closed-loop maximum rate on the same stream.
//!
//! Run: `cargo bench -p matching --bench latency -- [--rate OPS] [--seconds S] [--runs N]
//! [--workload normal|deep|fast]` (defaults: 1,000,000 ops/s, 1 s, 5 runs, normal).

#![allow(missing_docs)]

mod workload;

use std::hint::{black_box, spin_loop};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use workload::{Op, Spec, generate, run_ours};

struct Args {
    rate: u64,
    seconds: u64,
    runs: usize,
    workload: String,
}

fn args() -> Args {
    let mut args = Args {
        rate: 1_000_000,
        seconds: 1,
        runs: 5,
        workload: "normal".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match arg.as_str() {
            "--rate" => args.rate = value().parse().unwrap_or(args.rate),
            "--seconds" => args.seconds = value().parse().unwrap_or(args.seconds),
            "--runs" => args.runs = value().parse().unwrap_or(args.runs),
            "--workload" => args.workload = value(),
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    args
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

fn main() {
    let args = args();
    let Some(spec) = Spec::by_name(&args.workload) else {
        eprintln!("unknown workload {:?} (normal, deep, fast)", args.workload);
        std::process::exit(2);
    };
    let commands = usize::try_from(args.rate * args.seconds).unwrap_or(usize::MAX);
    let workload = generate(spec, commands);
    let engine = workload.prefilled_engine();
    // Picoseconds between scheduled sends, so that `i * interval` stays exact in integers.
    let interval_ps = 1_000_000_000_000 / args.rate.max(1);

    let mut per_op: Vec<Histogram<u64>> = Op::ALL.iter().map(|_| histogram()).collect();
    let mut all = histogram();
    // Service time (apply alone, from the actual start): what the engine costs when not queued.
    let mut service = histogram();
    let mut run_p99 = Vec::new();
    let mut achieved = Vec::new();
    let mut out = Vec::with_capacity(1024);
    for _ in 0..args.runs {
        let mut engine = engine.clone();
        let mut this_run = histogram();
        out.clear();
        let start = Instant::now() + Duration::from_millis(1);
        for (i, (command, op)) in workload.stream.iter().zip(&workload.ops).enumerate() {
            let offset_ps = u128::from(interval_ps) * i as u128;
            let offset_ns = u64::try_from(offset_ps / 1_000).unwrap_or(u64::MAX);
            let scheduled = start + Duration::from_nanos(offset_ns);
            let mut began = Instant::now();
            while began < scheduled {
                spin_loop();
                began = Instant::now();
            }
            out.clear();
            engine.apply(command, &mut out);
            let done = Instant::now();
            let latency = u64::try_from(done.duration_since(scheduled).as_nanos())
                .unwrap_or(u64::MAX)
                .max(1);
            let cost = u64::try_from(done.duration_since(began).as_nanos())
                .unwrap_or(u64::MAX)
                .max(1);
            service.saturating_record(cost);
            this_run.saturating_record(latency);
            let slot = Op::ALL.iter().position(|o| o == op).unwrap_or(0);
            per_op[slot].saturating_record(latency);
            all.saturating_record(latency);
        }
        run_p99.push((
            this_run.value_at_quantile(0.99),
            this_run.value_at_quantile(0.999),
        ));
        let elapsed = start.elapsed().as_secs_f64();
        achieved.push(workload.stream.len() as f64 / elapsed);
        black_box(&engine);
    }

    // Closed loop on the same stream: the most this thread does back to back.
    let mut closed = Vec::new();
    for _ in 0..args.runs {
        let mut engine = engine.clone();
        let t = Instant::now();
        black_box(run_ours(&mut engine, &workload.stream, &mut out));
        closed.push(workload.stream.len() as f64 / t.elapsed().as_secs_f64());
    }
    closed.sort_by(f64::total_cmp);
    achieved.sort_by(f64::total_cmp);

    println!(
        "workload {} | offered {} ops/s | {} runs x {} commands | achieved median {:.0} ops/s | closed-loop median {:.2} M ops/s",
        spec.name,
        args.rate,
        args.runs,
        commands,
        achieved[achieved.len() / 2],
        closed[closed.len() / 2] / 1e6
    );
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "op", "count", "p50 ns", "p99 ns", "p99.9 ns", "p99.99 ns", "max ns"
    );
    let rows = Op::ALL
        .iter()
        .map(|op| op.name())
        .zip(per_op.iter())
        .chain([("all", &all), ("service", &service)]);
    for (name, h) in rows {
        if h.is_empty() {
            continue;
        }
        println!(
            "{:<8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
            name,
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.value_at_quantile(0.9999),
            h.max()
        );
    }
    let runs: Vec<String> = run_p99
        .iter()
        .map(|(p99, p999)| format!("{p99}/{p999}"))
        .collect();
    println!("all, per run p99/p99.9 ns: {}", runs.join("  "));
}
