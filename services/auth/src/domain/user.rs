//! Validated user inputs: raw strings stop here.

/// Longest accepted user name, password or display name, in bytes.
const MAX_FIELD_BYTES: usize = 256;

fn non_empty(value: &str, field: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.len() > MAX_FIELD_BYTES {
        return Err(format!("{field} is too long"));
    }
    Ok(value.to_owned())
}

/// A login name: non-empty, at most 256 bytes, compared exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    /// Validates `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        non_empty(value, "user_name").map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain password: non-empty, at most 256 bytes (bcrypt reads 72).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Validates `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        non_empty(value, "password").map(Self)
    }

    /// The password.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's display name: non-empty, at most 256 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        non_empty(value, "name").map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_blank_is_refused() {
        assert!(UserName::parse("").is_err());
        assert!(Password::parse("").is_err());
        assert!(DisplayName::parse("  ").is_err());
        assert_eq!(
            UserName::parse("VanguardETF")
                .map(|n| n.as_str().to_owned())
                .ok()
                .as_deref(),
            Some("VanguardETF")
        );
    }
}
