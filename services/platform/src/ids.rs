//! Ids at the edge: emitted as JSON strings of digits, accepted as strings or JSON integers.

use serde_json::value::RawValue;

use crate::error::ApiError;

/// Parses an id sent as `"42"` or `42`; anything else is a 400 naming `field`.
pub fn parse_id(raw: &RawValue, field: &str) -> Result<u64, ApiError> {
    let text = raw.get().trim();
    let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner,
        None => text,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!("{field} is not a valid id")));
    }
    text.parse::<u64>()
        .map_err(|_| ApiError::bad_request(format!("{field} is not a valid id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("valid json in test")
    }

    #[test]
    fn accepts_strings_and_integers() {
        assert_eq!(parse_id(&raw("\"17\""), "stock_id").ok(), Some(17));
        assert_eq!(parse_id(&raw("17"), "stock_id").ok(), Some(17));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "\"abc\"",
            "1.5",
            "-1",
            "\"\"",
            "true",
            "{}",
            "\"99999999999999999999\"",
        ] {
            assert!(parse_id(&raw(bad), "stock_id").is_err(), "{bad} accepted");
        }
    }
}
