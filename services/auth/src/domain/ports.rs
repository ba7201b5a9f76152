//! The users store port.

use async_trait::async_trait;

use super::user::{DisplayName, UserName};

/// A user as stored.
#[derive(Debug, Clone)]
pub struct StoredUser {
    /// The user id (the JWT `sub`).
    pub user_id: u64,
    /// The bcrypt hash of the password.
    pub password_hash: String,
}

/// The user name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTaken;

/// Where users live. Errors are outages; business refusals are in the `Ok` value.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Adds a user durably, or says the name is taken; returns the new id.
    async fn insert(
        &self,
        name: &UserName,
        display_name: &DisplayName,
        password_hash: String,
    ) -> anyhow::Result<Result<u64, NameTaken>>;

    /// The user named `name`, if any.
    async fn find_by_name(&self, name: &UserName) -> anyhow::Result<Option<StoredUser>>;
}
