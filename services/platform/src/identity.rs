//! Who is calling: JWT verification and the [`Caller`] extractor.
//!
//! Tokens are HS256 only (the algorithm is pinned, a token naming another is refused) and must
//! carry `sub` (the user id), `iat` and an unexpired `exp`. The raw JWT comes in the `token`
//! header; `Authorization: Bearer <jwt>` is accepted too, and `token` wins when both are sent.
//! A valid token whose user does not exist (any more) is refused like an invalid one: 401.
//!
//! Verified tokens are remembered (the exact token string, with its user and `exp`), so a
//! client's later requests skip the signature and the JSON of the claims (about 5 % of the
//! process's CPU under place-order load). A remembered token is still refused once its `exp`
//! passes, and its user is still checked on every request.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::{SharedClock, SystemClock};
use crate::error::ApiError;

/// The claims of an exchange token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, decimal.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

/// The port that says whether a user id still exists. Async: in the distributed mode the
/// users live in a networked store.
#[async_trait]
pub trait KnownUsers: Send + Sync + 'static {
    /// True when `user_id` is a registered user.
    async fn exists(&self, user_id: u64) -> anyhow::Result<bool>;
}

#[async_trait]
impl<K: KnownUsers + ?Sized> KnownUsers for Arc<K> {
    async fn exists(&self, user_id: u64) -> anyhow::Result<bool> {
        K::exists(self, user_id).await
    }
}

/// Tokens remembered as verified, at most (each costs its length plus ~50 bytes).
const VERIFIED_TOKENS: usize = 65_536;

/// Signs and verifies tokens with one shared secret. Cheap to clone (every request's extractor
/// takes one from the app state): the keys, the validation rules and the verified tokens are
/// shared.
#[derive(Clone)]
pub struct Authenticator {
    keys: Arc<Keys>,
    users: Arc<dyn KnownUsers>,
    /// Token -> (user id, exp) of tokens whose signature and claims were checked.
    verified: Arc<quick_cache::sync::Cache<Box<str>, (u64, u64)>>,
    clock: SharedClock,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Authenticator {
    /// An authenticator for `secret`, checking users against `users`.
    pub fn new(secret: &[u8], users: Arc<dyn KnownUsers>) -> Self {
        Self::with_clock(secret, users, Arc::new(SystemClock))
    }

    /// Like [`Authenticator::new`], with the clock that decides whether a remembered token has
    /// expired (tests).
    pub fn with_clock(secret: &[u8], users: Arc<dyn KnownUsers>, clock: SharedClock) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        validation.leeway = 0;
        let keys = Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        };
        Self {
            keys: Arc::new(keys),
            users,
            verified: Arc::new(quick_cache::sync::Cache::new(VERIFIED_TOKENS)),
            clock,
        }
    }

    /// A signed HS256 token for `claims`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.keys.encoding,
        )?)
    }

    /// The user id of a valid token of an existing user.
    pub async fn verify(&self, token: &str) -> Result<u64, ApiError> {
        let invalid = || ApiError::Unauthorized("invalid or expired token".to_owned());
        let (user_id, exp) = match self.verified.get(token) {
            Some(remembered) => remembered,
            None => self.check_signature(token).ok_or_else(invalid)?,
        };
        // jsonwebtoken's rule with no leeway: valid through the second of `exp`.
        if exp < self.clock.now_ns() / 1_000_000_000 {
            return Err(invalid());
        }
        match self.users.exists(user_id).await {
            Ok(true) => Ok(user_id),
            Ok(false) => Err(invalid()),
            Err(error) => Err(ApiError::from(error)),
        }
    }

    /// The user and `exp` of a token with a good signature and claims, remembered.
    fn check_signature(&self, token: &str) -> Option<(u64, u64)> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &self.keys.validation)
                .ok()?;
        let user_id = data.claims.sub.parse::<u64>().ok()?;
        let verified = (user_id, data.claims.exp);
        self.verified.insert(token.into(), verified);
        Some(verified)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The caller's user id.
    pub user_id: u64,
}

fn raw_token(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get("token") {
        return value.to_str().ok().map(str::trim);
    }
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl<S> FromRequestParts<S> for Caller
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = raw_token(parts)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("missing token".to_owned()))?;
        let authenticator = Authenticator::from_ref(state);
        Ok(Self {
            user_id: authenticator.verify(token).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::clock::Clock;

    struct OnlyUserOne;
    #[async_trait]
    impl KnownUsers for OnlyUserOne {
        async fn exists(&self, user_id: u64) -> anyhow::Result<bool> {
            Ok(user_id == 1)
        }
    }

    fn claims(sub: &str, exp: u64) -> Claims {
        Claims {
            sub: sub.to_owned(),
            iat: 1,
            exp,
        }
    }

    #[tokio::test]
    async fn verifies_its_own_tokens_of_known_users() {
        let auth = Authenticator::new(b"secret", Arc::new(OnlyUserOne));
        let token = auth.sign(&claims("1", u64::MAX / 2)).unwrap_or_default();
        assert_eq!(auth.verify(&token).await.ok(), Some(1));
        let stranger = auth.sign(&claims("2", u64::MAX / 2)).unwrap_or_default();
        assert!(matches!(
            auth.verify(&stranger).await,
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[tokio::test]
    async fn refuses_expired_and_foreign_tokens() {
        let auth = Authenticator::new(b"secret", Arc::new(OnlyUserOne));
        let expired = auth.sign(&claims("1", 2)).unwrap_or_default();
        assert!(auth.verify(&expired).await.is_err());
        let other = Authenticator::new(b"other", Arc::new(OnlyUserOne));
        let foreign = other.sign(&claims("1", u64::MAX / 2)).unwrap_or_default();
        assert!(auth.verify(&foreign).await.is_err());
    }

    /// A clock the test moves, in whole seconds.
    struct PinnedClock(AtomicU64);

    impl PinnedClock {
        fn set_seconds(&self, seconds: u64) {
            self.0.store(seconds * 1_000_000_000, Ordering::SeqCst);
        }
    }

    impl Clock for PinnedClock {
        fn now_ns(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn system_seconds() -> u64 {
        SystemClock.now_ns() / 1_000_000_000
    }

    #[tokio::test]
    async fn a_remembered_token_is_refused_once_it_expires_and_for_an_unknown_user() {
        let now = Arc::new(PinnedClock(AtomicU64::new(SystemClock.now_ns())));
        let auth = Authenticator::with_clock(b"secret", Arc::new(OnlyUserOne), now.clone());
        let exp = system_seconds() + 100;
        let token = auth.sign(&claims("1", exp)).unwrap_or_default();
        assert_eq!(auth.verify(&token).await.ok(), Some(1));
        assert_eq!(
            auth.verified.get(token.as_str()),
            Some((1, exp)),
            "remembered"
        );
        assert_eq!(
            auth.verify(&token).await.ok(),
            Some(1),
            "and accepted again"
        );
        now.set_seconds(exp);
        assert_eq!(
            auth.verify(&token).await.ok(),
            Some(1),
            "valid through its exp"
        );
        now.set_seconds(exp + 1);
        assert!(matches!(
            auth.verify(&token).await,
            Err(ApiError::Unauthorized(_))
        ));
        now.set_seconds(system_seconds());
        let stranger = auth.sign(&claims("2", exp)).unwrap_or_default();
        for _ in 0..2 {
            assert!(matches!(
                auth.verify(&stranger).await,
                Err(ApiError::Unauthorized(_))
            ));
        }
        let forged = format!("{token}x");
        assert!(
            auth.verify(&forged).await.is_err(),
            "only the exact string is remembered"
        );
    }

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut builder = axum::http::Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(())
            .map(|r| r.into_parts().0)
            .unwrap_or_else(|e| panic!("request: {e}"))
    }

    #[test]
    fn the_token_header_wins_over_bearer() {
        assert_eq!(
            raw_token(&parts(&[("token", "a"), ("authorization", "Bearer b")])),
            Some("a")
        );
        assert_eq!(
            raw_token(&parts(&[("authorization", "bearer b")])),
            Some("b")
        );
        assert_eq!(raw_token(&parts(&[("authorization", "Basic b")])), None);
        assert_eq!(raw_token(&parts(&[])), None);
    }
}
