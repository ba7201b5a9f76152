//! The `Clock` port: services read time only through it, so tests can pin it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall time as nanoseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Now, in nanoseconds since the Unix epoch.
    fn now_ns(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ns(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock shared between tasks.
pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 UTC with milliseconds, e.g. `2025-03-01T15:03:25.019Z`.
pub fn rfc3339_millis(timestamp_ns: u64) -> String {
    let nanos = i128::from(timestamp_ns);
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return "1970-01-01T00:00:00.000Z".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_in_utc() {
        let ns = 1_740_841_405_019_000_000 + 999_999;
        assert_eq!(rfc3339_millis(ns), "2025-03-01T15:03:25.019Z");
    }
}
