//! Assertions for the rules every answer of API.md Part 1 must follow.

use crate::http::Reply;
use serde_json::{Map, Value};

/// Placeholder that [`redact_timestamps`] puts where a valid `time_stamp` was.
pub const TIME_STAMP: &str = "<time_stamp>";

/// Asserts `status` and an envelope `{"success": <success>, "data": ...}`; returns `data`.
fn expect_envelope(reply: &Reply, status: u16, success: bool) -> Value {
    assert_eq!(
        reply.status, status,
        "{}: expected {status}, got {} {}",
        reply.request, reply.status, reply.text
    );
    let body = reply.json();
    let envelope = body
        .as_object()
        .unwrap_or_else(|| panic!("{}: body is not an object: {}", reply.request, reply.text));
    assert_eq!(
        keys(envelope),
        ["data", "success"],
        "{}: envelope keys",
        reply.request
    );
    assert_eq!(
        envelope["success"],
        Value::Bool(success),
        "{}: success",
        reply.request
    );
    envelope["data"].clone()
}

/// Asserts a 200 success envelope `{"success": true, "data": ...}` and returns `data`.
pub fn expect_ok(reply: &Reply) -> Value {
    let data = expect_envelope(reply, 200, true);
    assert_integral_numbers_are_integers(&reply.text);
    data
}

/// Asserts a 200 success envelope whose `data` is `null`.
pub fn expect_ok_null(reply: &Reply) {
    let data = expect_ok(reply);
    assert_eq!(data, Value::Null, "{}: data must be null", reply.request);
}

/// Asserts `{"success": false, "data": {"error": "<non-empty>"}}` with `status`; returns the message.
pub fn expect_error(reply: &Reply, status: u16) -> String {
    let data = expect_envelope(reply, status, false);
    let data = data
        .as_object()
        .unwrap_or_else(|| panic!("{}: data is not an object: {}", reply.request, reply.text));
    assert_eq!(keys(data), ["error"], "{}: error data keys", reply.request);
    let message = data["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: error is not a string: {}", reply.request, reply.text));
    assert!(
        !message.trim().is_empty(),
        "{}: empty error message",
        reply.request
    );
    message.to_string()
}

/// Whether `id` is a non-empty string made only of `[0-9A-Za-z_-]`.
pub fn is_valid_id(id: &Value) -> bool {
    id.as_str().is_some_and(|text| {
        !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
    })
}

/// Asserts [`is_valid_id`] with a message naming `what`.
pub fn assert_valid_id(id: &Value, what: &str) {
    assert!(
        is_valid_id(id),
        "{what}: {id} is not a string of [0-9A-Za-z_-]"
    );
}

/// Whether `text` is RFC 3339 UTC with milliseconds: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn is_rfc3339_utc_millis(text: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(byte, &shape)| match shape {
            b'd' => byte.is_ascii_digit(),
            literal => byte == literal,
        })
        && in_range(&text[5..7], 1, 12)
        && in_range(&text[8..10], 1, 31)
        && in_range(&text[11..13], 0, 23)
        && in_range(&text[14..16], 0, 59)
        && in_range(&text[17..19], 0, 60)
}

fn in_range(digits: &str, low: u32, high: u32) -> bool {
    digits
        .parse::<u32>()
        .is_ok_and(|value| (low..=high).contains(&value))
}

/// Checks every `time_stamp` in a list of records and replaces it with [`TIME_STAMP`], so the
/// rest of the records can be compared exactly. Also asserts they never go backwards.
pub fn redact_timestamps(records: &Value) -> Value {
    let list = records
        .as_array()
        .unwrap_or_else(|| panic!("expected a list of records, got {records}"));
    let mut previous: Option<String> = None;
    let redacted = list
        .iter()
        .map(|record| {
            let mut record = record.clone();
            let stamp = record["time_stamp"].as_str().map(str::to_string);
            let stamp = stamp.unwrap_or_else(|| panic!("record without time_stamp: {record}"));
            assert!(
                is_rfc3339_utc_millis(&stamp),
                "bad time_stamp {stamp:?} in {record}"
            );
            if let Some(previous) = &previous {
                assert!(
                    *previous <= stamp,
                    "list not oldest first: {previous} then {stamp}"
                );
            }
            previous = Some(stamp);
            record["time_stamp"] = Value::String(TIME_STAMP.to_string());
            record
        })
        .collect();
    Value::Array(redacted)
}

/// Asserts that no number in the JSON text is written with a zero fraction (`135.0`) or an
/// exponent (`1e3`): integral values must be JSON integers.
pub fn assert_integral_numbers_are_integers(json_text: &str) {
    for number in number_tokens(json_text) {
        assert!(
            !number.contains(['e', 'E']),
            "number {number} uses an exponent in {json_text}"
        );
        if let Some((_, fraction)) = number.split_once('.') {
            assert!(
                fraction.bytes().any(|digit| digit != b'0'),
                "integral number written as {number} in {json_text}"
            );
        }
    }
}

/// The number literals of a JSON text, outside strings.
fn number_tokens(json_text: &str) -> Vec<&str> {
    let bytes = json_text.as_bytes();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => index = skip_string(bytes, index),
            b'-' | b'0'..=b'9' => {
                let start = index;
                while index < bytes.len()
                    && matches!(bytes[index], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    index += 1;
                }
                tokens.push(&json_text[start..index]);
            }
            _ => index += 1,
        }
    }
    tokens
}

/// Index just past the string literal that starts at `start` (a `"`).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    index
}

fn keys(object: &Map<String, Value>) -> Vec<&str> {
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_need_utc_and_milliseconds() {
        assert!(is_rfc3339_utc_millis("2025-03-01T15:03:25.019Z"));
        assert!(!is_rfc3339_utc_millis("2025-03-01T15:03:25Z"));
        assert!(!is_rfc3339_utc_millis("2025-03-01T15:03:25.019+00:00"));
        assert!(!is_rfc3339_utc_millis("2025-13-01T15:03:25.019Z"));
        assert!(!is_rfc3339_utc_millis("2025-03-01 15:03:25.019Z"));
    }

    #[test]
    fn ids_use_the_regex_safe_alphabet() {
        assert!(is_valid_id(&Value::from("abc_DEF-123")));
        assert!(!is_valid_id(&Value::from("")));
        assert!(!is_valid_id(&Value::from("a.b")));
        assert!(!is_valid_id(&Value::from(12)));
    }

    #[test]
    fn number_scan_ignores_strings_and_finds_zero_fractions() {
        assert_eq!(
            number_tokens(r#"{"a":"1.0","b":-2.5,"c":[3,4e2]}"#),
            ["-2.5", "3", "4e2"]
        );
        assert_integral_numbers_are_integers(r#"{"balance":135,"t":"1.0Z"}"#);
        let zero_fraction = std::panic::catch_unwind(|| {
            assert_integral_numbers_are_integers(r#"{"balance":135.0}"#);
        });
        assert!(zero_fraction.is_err());
    }
}
