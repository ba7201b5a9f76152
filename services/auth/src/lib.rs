//! Users of the exchange: registration with bcrypt-hashed passwords, login, JWT issue.
//!
//! Owns the users table. Invariants: user names are unique (checked inside the write
//! transaction, so concurrent registrations of one name give exactly one success); bcrypt runs
//! on the blocking pool, never on an async worker; a failed login says the same thing and takes
//! about the same time whether the user is unknown (a dummy hash is verified) or the password
//! is wrong. Tokens are HS256 with `sub` (user id), `iat`, `exp` (lifetime configurable).

pub mod config;
pub mod domain;
pub mod http;
pub mod store;

use std::sync::Arc;

use platform::clock::SharedClock;
use platform::group_commit::GroupCommitter;
use platform::identity::{Authenticator, KnownUsers};
use platform::remembered_users::RememberedUsers;

pub use config::AuthConfig;
pub use domain::service::AuthService;

/// What the auth role needs at run time.
#[derive(Clone)]
pub struct AuthDeps {
    /// The use cases.
    pub service: Arc<AuthService>,
    /// Token verification, shared with the other roles.
    pub authenticator: Authenticator,
}

/// Opens the users store in `committer`'s database and builds the service.
pub fn connect(
    config: &AuthConfig,
    committer: GroupCommitter,
    clock: SharedClock,
) -> anyhow::Result<AuthDeps> {
    let users = Arc::new(store::RedbUsers::open(committer)?);
    let known: Arc<dyn KnownUsers> = Arc::new(RememberedUsers::new(users.clone()));
    let authenticator = Authenticator::new(&config.jwt_secret, known);
    let service = AuthService::new(config, users, authenticator.clone(), clock)?;
    Ok(AuthDeps {
        service: Arc::new(service),
        authenticator,
    })
}

/// The HTTP routes of the auth role.
pub fn router(deps: &AuthDeps) -> axum::Router {
    http::router(Arc::clone(&deps.service))
}
