//! Cache tests against a private `redis-server` each (`test_services::redis::TestRedis`), over
//! the throwaway in-memory store wrapped in [`inner::TestInner`], which counts inner reads and can
//! pause inside an inner call so a test drives a reader and a writer through an exact
//! interleaving.

mod behaviour;
mod faults;
mod http;
mod inner;
mod races;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use test_services::redis::TestRedis;

use super::keys::Entry;
use super::redis_side::Lookup;
use super::{CacheSettings, CachedPortfolio};
use crate::domain::ports::{Decision, PortfolioStore};
use crate::store::JournalPortfolio;
use inner::{Gates, TestInner};

/// A user the tests read and write.
const USER: u64 = 7;

/// Redis, the inner store, and the cache in front of it.
struct Harness {
    redis: TestRedis,
    store: Arc<JournalPortfolio>,
    gates: Arc<Gates>,
    cache: Arc<CachedPortfolio<TestInner>>,
}

impl Harness {
    async fn start() -> Self {
        Self::with_settings(CacheSettings::default()).await
    }

    async fn with_settings(settings: CacheSettings) -> Self {
        let redis = TestRedis::start();
        let store = Arc::new(crate::store::test_store());
        let gates = Arc::new(Gates::default());
        let inner = TestInner::new(Arc::clone(&store), Arc::clone(&gates));
        let cache = CachedPortfolio::connect_with(&redis.url(), "test:", settings, inner)
            .await
            .unwrap_or_else(|e| panic!("connect: {e:#}"));
        Self {
            redis,
            store,
            gates,
            cache: Arc::new(cache),
        }
    }

    /// What the cache holds for `user_id`'s balance, without touching the inner store.
    async fn cached_balance(&self, user_id: u64) -> Lookup {
        self.cache
            .redis
            .lookup(user_id, Entry::Balance)
            .await
            .unwrap_or_else(|e| panic!("lookup: {e:#}"))
    }

    /// The raw balance entry in Redis (whatever its generation), read with a client of its own.
    async fn raw_balance_entry(&self, user_id: u64) -> Option<String> {
        let client =
            redis::Client::open(self.redis.url()).unwrap_or_else(|e| panic!("redis client: {e}"));
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("redis connection: {e}"));
        redis::cmd("HGET")
            .arg(format!("test:u:{user_id}:balance"))
            .arg("value")
            .query_async(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("HGET: {e}"))
    }

    /// The balance read through the cache.
    async fn balance(&self, user_id: u64) -> u64 {
        self.cache
            .balance(user_id)
            .await
            .unwrap_or_else(|e| panic!("balance: {e:#}"))
    }

    /// The balance in the inner store (the truth).
    async fn true_balance(&self, user_id: u64) -> u64 {
        self.store
            .balance(user_id)
            .await
            .unwrap_or_else(|e| panic!("inner balance: {e:#}"))
    }

    /// How many balance/holdings reads reached the inner store so far.
    fn inner_reads(&self) -> usize {
        self.gates.inner_reads.load(Ordering::SeqCst)
    }
}

/// A hit carrying `value`.
fn is_hit(lookup: &Lookup, value: &str) -> bool {
    matches!(lookup, Lookup::Hit { value: v, .. } if v == value)
}

/// The value of a successful decision.
fn ok<T>(decision: Decision<T>) -> T {
    match decision {
        Ok(Ok(value)) => value,
        Ok(Err(refusal)) => panic!("refused: {}", refusal.0),
        Err(error) => panic!("failed: {error:#}"),
    }
}
