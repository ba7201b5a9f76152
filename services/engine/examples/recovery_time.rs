//! How long a shard takes to be rebuilt after a crash, with N resting orders: fills a shard on a
//! temporary store through its real thread (group commits, snapshots every 20,000 commands),
//! drops it without a clean shutdown, then times `recovery::open` (snapshot + log replay + hash
//! check), median of 5 opens.
//!
//! cargo run --release -p engine --example recovery_time -- 10000 100000

#[path = "workload/resting.rs"]
mod workload;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contracts::embedded::{Delivery, ShardInput};
use platform::clock::{SharedClock, SystemClock};
use tokio::sync::{mpsc, oneshot, watch};
use workload::resting_sell;

/// Commands in flight at once while filling.
const WINDOW: usize = 1024;

async fn fill(path: &std::path::Path, resting: u64, clock: &SharedClock) -> anyhow::Result<()> {
    let shard = engine::recovery::open(0, path, clock.clone())?;
    let (inputs, input_receiver) = mpsc::channel(WINDOW);
    let (deliveries, mut delivered) = mpsc::channel::<Delivery>(WINDOW);
    let (settled, settled_receiver) = watch::channel(0);
    let thread = engine::run_background(shard, input_receiver, deliveries, settled_receiver)?;
    let settler = tokio::spawn(async move {
        while let Some(delivery) = delivered.recv().await {
            settled.send_replace(delivery.outcome.sequence);
            if let Some(reply) = delivery.reply {
                let _ = reply.send(delivery.outcome);
            }
        }
    });
    let mut answers = Vec::with_capacity(WINDOW);
    for order_ref in 1..=resting {
        let (reply, answer) = oneshot::channel();
        let command = resting_sell(order_ref);
        inputs.send(ShardInput::Command { command, reply }).await?;
        answers.push(answer);
        if answers.len() == WINDOW {
            for answer in answers.drain(..) {
                answer.await?;
            }
        }
    }
    for answer in answers {
        answer.await?;
    }
    drop(inputs);
    settler.await?;
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("shard thread panicked"))?;
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse())
        .collect::<Result<_, _>>()?;
    for resting in if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    } {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("shard-0");
        let filling = Instant::now();
        fill(&path, resting, &clock).await?;
        let filled_in = filling.elapsed();
        let mut opens = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let shard = engine::recovery::open(0, &path, clock.clone())?;
            opens.push(started.elapsed());
            drop(shard);
        }
        // The shard's journal and snapshot files.
        let mut size = 0;
        for entry in std::fs::read_dir(dir.path())? {
            size += entry?.metadata()?.len();
        }
        println!(
            "resting {resting:>7}: filled in {filled_in:.2?}, store {} KiB, recovery median {:.1?} (of {opens:.1?})",
            size / 1024,
            median(opens.clone()),
        );
    }
    Ok(())
}
