//! Connecting the adapters every role shares: the users (token checks) and the portfolio store.

use std::sync::Arc;

use auth::store::mongo::MongoUsers;
use platform::identity::{Authenticator, KnownUsers};
use platform::remembered_users::RememberedUsers;
use portfolio::PortfolioStore;
use portfolio::cache::CachedPortfolio;
use portfolio::store::mongo::MongoPortfolio;

use crate::config::Backends;

/// The users in MongoDB, and the token verifier that checks against them.
pub async fn users(backends: &Backends) -> anyhow::Result<(Arc<MongoUsers>, Authenticator)> {
    let users = Arc::new(MongoUsers::connect(&backends.mongo_url, &backends.mongo_db).await?);
    let known: Arc<dyn KnownUsers> = Arc::new(RememberedUsers::new(users.clone()));
    let authenticator = Authenticator::new(backends.jwt_secret.as_bytes(), known);
    Ok((users, authenticator))
}

/// The portfolio store: MongoDB (the truth of every balance) behind the Redis cache.
pub async fn portfolio_store(backends: &Backends) -> anyhow::Result<Arc<dyn PortfolioStore>> {
    let store = MongoPortfolio::connect(&backends.mongo_url, &backends.mongo_db).await?;
    let cached =
        CachedPortfolio::connect(&backends.redis_url, &backends.redis_prefix, store).await?;
    cached.invalidate_all().await?;
    Ok(Arc::new(cached))
}
