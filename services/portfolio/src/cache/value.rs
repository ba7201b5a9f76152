//! How cached values are written in Redis: a balance as its integer cents in decimal, holdings
//! as a JSON array of `[stock_id, stock_name, quantity]` (integers, no floats anywhere).

use anyhow::Context;

use crate::domain::ports::Holding;

use super::keys::Entry;

/// A value the cache can hold.
pub(crate) trait CacheValue: Sized {
    /// The entry it lives in.
    const ENTRY: Entry;
    /// Its text in Redis.
    fn encode(&self) -> String;
    /// Back from Redis; an error means the entry is unusable (it is then rebuilt).
    fn decode(text: &str) -> anyhow::Result<Self>;
}

/// A balance in cents.
impl CacheValue for u64 {
    const ENTRY: Entry = Entry::Balance;

    fn encode(&self) -> String {
        self.to_string()
    }

    fn decode(text: &str) -> anyhow::Result<Self> {
        text.parse()
            .context("a cached balance is not integer cents")
    }
}

impl CacheValue for Vec<Holding> {
    const ENTRY: Entry = Entry::Holdings;

    fn encode(&self) -> String {
        let rows: Vec<(u64, &str, u64)> = self
            .iter()
            .map(|h| (h.stock_id, h.stock_name.as_str(), h.quantity))
            .collect();
        // Serializing integers and strings into a String cannot fail.
        serde_json::to_string(&rows).unwrap_or_default()
    }

    fn decode(text: &str) -> anyhow::Result<Self> {
        let rows: Vec<(u64, String, u64)> =
            serde_json::from_str(text).context("cached holdings are not [id, name, quantity]")?;
        Ok(rows
            .into_iter()
            .map(|(stock_id, stock_name, quantity)| Holding {
                stock_id,
                stock_name,
                quantity,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_garbage_is_refused() {
        assert_eq!(u64::decode(&u64::MAX.encode()).ok(), Some(u64::MAX));
        let holdings = vec![Holding {
            stock_id: 3,
            stock_name: "Zed \"quoted\"".to_owned(),
            quantity: 12,
        }];
        assert_eq!(holdings.encode(), r#"[[3,"Zed \"quoted\"",12]]"#);
        assert_eq!(
            Vec::<Holding>::decode(&holdings.encode()).ok(),
            Some(holdings)
        );
        assert!(u64::decode("12.5").is_err());
        assert!(Vec::<Holding>::decode("[[1,2]]").is_err());
    }
}
