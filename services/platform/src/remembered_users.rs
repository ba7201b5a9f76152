//! A positive cache in front of any [`KnownUsers`]: token checks on every request would
//! otherwise ask the users store each time.
//!
//! Invariant: only "exists" answers are remembered. Users are never deleted through the API, so
//! a remembered id stays true (a deletion path would have to evict it, in every process). "Does
//! not exist" is never remembered: the user may register a moment later.

use std::collections::HashSet;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::identity::KnownUsers;

/// `users`, remembering the ids it confirmed.
pub struct RememberedUsers<K> {
    users: K,
    known: RwLock<HashSet<u64>>,
}

impl<K: KnownUsers> RememberedUsers<K> {
    /// Wraps `users`.
    pub fn new(users: K) -> Self {
        Self {
            users,
            known: RwLock::default(),
        }
    }
}

#[async_trait]
impl<K: KnownUsers> KnownUsers for RememberedUsers<K> {
    async fn exists(&self, user_id: u64) -> anyhow::Result<bool> {
        if self
            .known
            .read()
            .is_ok_and(|known| known.contains(&user_id))
        {
            return Ok(true);
        }
        let exists = self.users.exists(user_id).await?;
        if exists && let Ok(mut known) = self.known.write() {
            known.insert(user_id);
        }
        Ok(exists)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// User 1 exists; counts the lookups.
    #[derive(Default)]
    struct CountingUsers {
        lookups: AtomicUsize,
    }

    #[async_trait]
    impl KnownUsers for &'static CountingUsers {
        async fn exists(&self, user_id: u64) -> anyhow::Result<bool> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(user_id == 1)
        }
    }

    #[tokio::test]
    async fn existing_ids_are_asked_once_and_unknown_ids_every_time() {
        let counting: &'static CountingUsers = Box::leak(Box::default());
        let remembered = RememberedUsers::new(counting);
        for _ in 0..3 {
            assert!(remembered.exists(1).await.unwrap_or(false));
        }
        assert_eq!(counting.lookups.load(Ordering::SeqCst), 1);
        for _ in 0..3 {
            assert!(!remembered.exists(2).await.unwrap_or(true));
        }
        assert_eq!(counting.lookups.load(Ordering::SeqCst), 4);
    }
}
