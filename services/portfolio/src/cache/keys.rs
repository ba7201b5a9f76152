//! Key names. Every key starts with the configured prefix, so deployments and tests sharing a
//! Redis never see each other's keys.

/// Whose cache entries a write invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Scope {
    /// One user's entries.
    User(u64),
    /// Every user's entries (a write whose users are not known up front).
    All,
}

/// A cached read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// The available balance, integer cents.
    Balance,
    /// The holdings with a positive quantity.
    Holdings,
}

impl Entry {
    const ALL: [Self; 2] = [Self::Balance, Self::Holdings];

    fn name(self) -> &'static str {
        match self {
            Self::Balance => "balance",
            Self::Holdings => "holdings",
        }
    }
}

/// Builds the keys under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    fn scope(&self, scope: Scope) -> String {
        match scope {
            Scope::User(user_id) => format!("{}u:{user_id}:", self.prefix),
            Scope::All => format!("{}all:", self.prefix),
        }
    }

    /// The scope's generation token.
    pub(crate) fn generation(&self, scope: Scope) -> String {
        format!("{}gen", self.scope(scope))
    }

    /// The scope's pending writers.
    pub(crate) fn pending(&self, scope: Scope) -> String {
        format!("{}pending", self.scope(scope))
    }

    /// A user's cached entry.
    pub(crate) fn entry(&self, user_id: u64, entry: Entry) -> String {
        format!("{}{}", self.scope(Scope::User(user_id)), entry.name())
    }

    /// The entries a write to `scope` deletes (the global scope's are invalidated by its
    /// generation instead: nobody can list every user's keys atomically).
    pub(crate) fn entries(&self, scope: Scope) -> Vec<String> {
        match scope {
            Scope::User(user_id) => Entry::ALL
                .iter()
                .map(|entry| self.entry(user_id, *entry))
                .collect(),
            Scope::All => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_carries_the_prefix_and_users_do_not_share_keys() {
        let keys = Keys::new("t1:");
        assert_eq!(keys.generation(Scope::User(7)), "t1:u:7:gen");
        assert_eq!(keys.pending(Scope::All), "t1:all:pending");
        assert_eq!(keys.entry(7, Entry::Holdings), "t1:u:7:holdings");
        assert_eq!(
            keys.entries(Scope::User(70)),
            ["t1:u:70:balance", "t1:u:70:holdings"]
        );
        assert!(keys.entries(Scope::All).is_empty());
    }
}
