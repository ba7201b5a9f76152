//! Every rule of API.md Part 1, checked through HTTP with exact JSON expectations.
//!
//! Each test starts its own exchange (or uses `EXCHANGE_BASE_URL`); names carry a unique suffix so
//! that tests also pass against a shared deployment, where lists are filtered to the test's stocks.

mod auth;
mod bad_input;
mod cancel;
mod course_flow;
mod envelope;
mod market_buy;
mod numbers;
mod prices_portfolio;
mod setup;

use serde_json::Value;
use system_tests::checks::redact_timestamps;
use system_tests::ledger::list;

/// The entries of a stock-keyed list (prices, portfolio) that belong to `stock_ids`, in the order
/// the API gave them; also asserts the whole list is sorted by `stock_name` descending (byte order).
pub fn only_stocks(entries: &Value, stock_ids: &[&Value]) -> Value {
    assert_sorted_by_stock_name_descending(entries);
    let kept = list(entries)
        .iter()
        .filter(|entry| stock_ids.contains(&&entry["stock_id"]))
        .cloned()
        .collect();
    Value::Array(kept)
}

/// Asserts a list is ordered by `stock_name` descending in byte order.
pub fn assert_sorted_by_stock_name_descending(entries: &Value) {
    let names: Vec<&str> = list(entries)
        .iter()
        .map(|entry| entry["stock_name"].as_str().unwrap_or_default())
        .collect();
    for pair in names.windows(2) {
        assert!(
            pair[0].as_bytes() > pair[1].as_bytes(),
            "not sorted by stock_name descending: {names:?}"
        );
    }
}

/// A transaction list with timestamps validated (format, oldest first) and redacted.
pub fn redacted(records: &Value) -> Value {
    redact_timestamps(records)
}
