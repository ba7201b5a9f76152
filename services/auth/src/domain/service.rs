//! Register and login.

use std::sync::Arc;
use std::time::Duration;

use platform::clock::SharedClock;
use platform::identity::{Authenticator, Claims};

use super::ports::UserStore;
use super::user::{DisplayName, Password, UserName};
use crate::config::AuthConfig;

/// The one message of a failed login, whatever the cause.
pub const BAD_CREDENTIALS: &str = "invalid user name or password";

/// Why a register or login was refused (client errors, 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRefusal {
    /// Bad input, with the message.
    Invalid(String),
    /// The user name exists.
    NameTaken,
    /// Unknown user or wrong password (one message for both).
    BadCredentials,
}

impl AuthRefusal {
    /// The message for the client.
    pub fn message(&self) -> String {
        match self {
            Self::Invalid(message) => message.clone(),
            Self::NameTaken => "user_name already exists".to_owned(),
            Self::BadCredentials => BAD_CREDENTIALS.to_owned(),
        }
    }
}

/// A use case's answer: refused (400) or an outage (`Err` of the outer result).
pub type AuthResult<T> = anyhow::Result<Result<T, AuthRefusal>>;

/// The auth use cases.
pub struct AuthService {
    users: Arc<dyn UserStore>,
    authenticator: Authenticator,
    clock: SharedClock,
    bcrypt_cost: u32,
    token_ttl: Duration,
    dummy_hash: String,
}

async fn hash_password(password: Password, cost: u32) -> anyhow::Result<String> {
    let hashed = tokio::task::spawn_blocking(move || bcrypt::hash(password.expose(), cost)).await?;
    Ok(hashed?)
}

async fn verify_password(password: Password, hash: String) -> anyhow::Result<bool> {
    let verified =
        tokio::task::spawn_blocking(move || bcrypt::verify(password.expose(), &hash)).await?;
    Ok(verified.unwrap_or(false))
}

impl AuthService {
    /// Builds the service; computes the dummy hash used for unknown users.
    pub fn new(
        config: &AuthConfig,
        users: Arc<dyn UserStore>,
        authenticator: Authenticator,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        let dummy_hash = bcrypt::hash("not a real password", config.bcrypt_cost)?;
        Ok(Self {
            users,
            authenticator,
            clock,
            bcrypt_cost: config.bcrypt_cost,
            token_ttl: config.token_ttl,
            dummy_hash,
        })
    }

    /// Registers a user.
    pub async fn register(&self, user_name: &str, password: &str, name: &str) -> AuthResult<()> {
        let parsed = UserName::parse(user_name)
            .and_then(|u| Password::parse(password).map(|p| (u, p)))
            .and_then(|(u, p)| DisplayName::parse(name).map(|n| (u, p, n)));
        let (user_name, password, name) = match parsed {
            Ok(parsed) => parsed,
            Err(message) => return Ok(Err(AuthRefusal::Invalid(message))),
        };
        if self.users.find_by_name(&user_name).await?.is_some() {
            return Ok(Err(AuthRefusal::NameTaken));
        }
        let hash = hash_password(password, self.bcrypt_cost).await?;
        Ok(self
            .users
            .insert(&user_name, &name, hash)
            .await?
            .map(|_| ())
            .map_err(|_| AuthRefusal::NameTaken))
    }

    /// Checks credentials and issues a token.
    pub async fn login(&self, user_name: &str, password: &str) -> AuthResult<String> {
        let (Ok(user_name), Ok(password)) = (UserName::parse(user_name), Password::parse(password))
        else {
            return Ok(Err(AuthRefusal::Invalid(
                "user_name and password are required".to_owned(),
            )));
        };
        let user = self.users.find_by_name(&user_name).await?;
        let hash = user
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let verified = verify_password(password, hash).await?;
        match user {
            Some(user) if verified => Ok(Ok(self.issue(user.user_id)?)),
            _ => Ok(Err(AuthRefusal::BadCredentials)),
        }
    }

    fn issue(&self, user_id: u64) -> anyhow::Result<String> {
        let now_s = self.clock.now_ns() / 1_000_000_000;
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now_s,
            exp: now_s.saturating_add(self.token_ttl.as_secs()),
        };
        self.authenticator.sign(&claims)
    }
}
