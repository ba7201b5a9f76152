//! Restarting a background loop that failed (the broker went away), with a growing pause, until
//! the process is told to stop.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// The first pause after a failure.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// Runs `attempt` again each time it fails, until it returns `Ok` or `stopped` turns true.
pub async fn restarting<F, Fut>(name: &str, stopped: watch::Receiver<bool>, mut attempt: F)
where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut pause = FIRST_PAUSE;
    loop {
        match attempt(stopped.clone()).await {
            Ok(()) => return,
            Err(error) => tracing::warn!(name, ?error, ?pause, "stopped with an error; restarting"),
        }
        if *stopped.borrow() {
            return;
        }
        let mut wait = stopped.clone();
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = wait.wait_for(|stop| *stop) => return,
        }
        pause = (pause * 2).min(MAX_PAUSE);
    }
}
