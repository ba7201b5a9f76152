//! One market buy at a time per buyer.
//!
//! A course market buy escrows all of the buyer's available cash as its spend cap, because its
//! cost is known only after matching. Two concurrent market buys of one buyer would each see the
//! other's escrow and could both fail where one after the other would succeed. Holding a
//! per-buyer lock from escrow to settlement makes them run one after the other, so every outcome
//! is one of a serial order. Striped: buyers whose ids share a stripe also wait for each other
//! (only for market buys), which bounds the memory.

use tokio::sync::{Mutex, MutexGuard};

/// Stripes of the lock table.
const STRIPES: usize = 1024;

/// The per-buyer market buy locks.
pub struct BuyerLocks {
    stripes: Vec<Mutex<()>>,
}

impl Default for BuyerLocks {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl BuyerLocks {
    /// Waits until `user_id` has no other market buy in flight.
    pub async fn lock(&self, user_id: u64) -> Option<MutexGuard<'_, ()>> {
        let stripe = usize::try_from(user_id % STRIPES as u64).ok()?;
        Some(self.stripes.get(stripe)?.lock().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_market_buy_of_the_same_buyer_waits_for_the_first() {
        let locks = BuyerLocks::default();
        let first = locks.lock(7).await;
        assert!(first.is_some());
        let other_buyer = locks.lock(8).await;
        assert!(other_buyer.is_some(), "another buyer is not blocked");
        let second = locks.lock(7);
        tokio::pin!(second);
        let acquired_early = tokio::select! {
            biased;
            _ = &mut second => true,
            () = std::future::ready(()) => false,
        };
        assert!(
            !acquired_early,
            "the same buyer waits while the first buy is in flight"
        );
        drop(first);
        assert!(second.await.is_some());
    }
}
