//! Settings of the auth role.

use std::time::Duration;

/// Settings of the auth role.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The HS256 secret (shared by every role that verifies tokens).
    pub jwt_secret: Vec<u8>,
    /// bcrypt cost factor (4..=31).
    pub bcrypt_cost: u32,
    /// How long an issued token is valid.
    pub token_ttl: Duration,
}
