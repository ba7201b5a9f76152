//! `exchange auth`: registration and login, users in MongoDB.

use std::sync::Arc;

use auth::{AuthConfig, AuthDeps, AuthService};
use platform::clock::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{backends, stop_signal};
use crate::config::AuthArgs;

/// Serves the auth routes until `stopped`.
pub async fn run(
    args: &AuthArgs,
    listener: TcpListener,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let backends = &args.service.backends;
    let (users, authenticator) = backends::users(backends).await?;
    let config = AuthConfig {
        jwt_secret: backends.jwt_secret.as_bytes().to_vec(),
        bcrypt_cost: args.bcrypt_cost,
        token_ttl: args.token_ttl,
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let service = AuthService::new(&config, users, authenticator.clone(), clock)?;
    let deps = AuthDeps {
        service: Arc::new(service),
        authenticator,
    };
    let app = crate::with_health(auth::router(&deps));
    crate::serve(listener, app, stop_signal(stopped)).await
}
