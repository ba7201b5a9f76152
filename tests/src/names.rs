//! Unique names for users and stocks, so tests can share one deployment without colliding.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A suffix made of `[0-9a-z]`, unique within this process and, through the clock and the process
/// id, very likely across runs against the same deployment.
pub fn unique_suffix() -> String {
    let counter = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("{:x}{:x}{counter}", std::process::id(), nanos)
}

/// `prefix` followed by `_` and a unique suffix.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", unique_suffix())
}
