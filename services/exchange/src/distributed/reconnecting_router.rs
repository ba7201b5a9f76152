//! The order role's way to the shards, surviving a broker restart: it holds the current
//! `AmqpRouter` and a watcher replaces it when it stops being healthy. Requests made while the
//! broker is away fail at once (the client gets an error and may retry) instead of hanging.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use contracts::embedded::BestAsk;
use contracts::{ShardCommand, ShardOutcome};
use order::ShardRouter;
use order::bus::rabbit::{AmqpRouter, AmqpRouterConfig};
use tokio::sync::watch;

/// How often the watcher looks at the router's health.
const HEALTH_CHECK_EVERY: Duration = Duration::from_millis(250);

/// A router that reconnects.
pub struct ReconnectingRouter {
    current: RwLock<Option<Arc<AmqpRouter>>>,
}

impl ReconnectingRouter {
    /// Connects once (failing if the broker cannot be reached), then watches until `stopped`.
    pub async fn connect(
        config: AmqpRouterConfig,
        stopped: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<Self>> {
        let first = AmqpRouter::connect(&config).await?;
        let router = Arc::new(Self {
            current: RwLock::new(Some(Arc::new(first))),
        });
        tokio::spawn(Arc::clone(&router).watch(config, stopped));
        Ok(router)
    }

    fn current(&self) -> anyhow::Result<Arc<AmqpRouter>> {
        self.current
            .read()
            .map_err(|_| anyhow::anyhow!("router lock poisoned"))?
            .clone()
            .ok_or_else(|| anyhow::Error::new(platform::error::Unavailable("the message broker")))
    }

    fn replace(&self, router: Option<Arc<AmqpRouter>>) {
        if let Ok(mut current) = self.current.write() {
            *current = router;
        }
    }

    async fn watch(self: Arc<Self>, config: AmqpRouterConfig, stopped: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(HEALTH_CHECK_EVERY);
        while !*stopped.borrow() {
            ticks.tick().await;
            if self.current().is_ok_and(|router| router.healthy()) {
                continue;
            }
            self.replace(None);
            match AmqpRouter::connect(&config).await {
                Ok(router) => {
                    tracing::info!("reconnected to the message broker");
                    self.replace(Some(Arc::new(router)));
                }
                Err(error) => tracing::warn!(?error, "the message broker is still away"),
            }
        }
    }
}

#[async_trait]
impl ShardRouter for ReconnectingRouter {
    async fn execute(&self, command: ShardCommand) -> anyhow::Result<ShardOutcome> {
        self.current()?.execute(command).await
    }

    async fn best_asks(&self) -> anyhow::Result<Vec<BestAsk>> {
        self.current()?.best_asks().await
    }

    fn ready(&self) -> bool {
        self.current().is_ok_and(|router| router.healthy())
    }
}
