//! Exact money: JSON numbers to integer cents (the exchange's tick is 0.01).

use serde_json::Value;

/// The cents in a JSON number (or numeric string) with at most two decimals; panics otherwise.
pub fn cents(value: &Value) -> i128 {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        other => panic!("expected a money amount, got {other}"),
    };
    parse_cents(&text)
        .unwrap_or_else(|| panic!("{text:?} is not an amount with at most 2 decimals"))
}

/// `"12.3"` -> 1230, `"-5"` -> -500; `None` for anything else (exponents, 3+ decimals, junk).
pub fn parse_cents(text: &str) -> Option<i128> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || fraction.len() > 2 {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction_cents: i128 = format!("{fraction:0<2}").parse().ok()?;
    let magnitude = whole.checked_mul(100)?.checked_add(fraction_cents)?;
    Some(if negative { -magnitude } else { magnitude })
}

/// Cents as the JSON number the API must emit: an integer when integral, else up to 2 decimals.
pub fn cents_to_json(cents: i128) -> Value {
    let text = if cents % 100 == 0 {
        (cents / 100).to_string()
    } else {
        let sign = if cents < 0 { "-" } else { "" };
        let magnitude = cents.unsigned_abs();
        let fraction = format!("{:02}", magnitude % 100);
        format!(
            "{sign}{}.{}",
            magnitude / 100,
            fraction.trim_end_matches('0')
        )
    };
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{text} is not JSON: {error}"))
}

/// The whole number in a JSON integer (or numeric string); panics otherwise.
pub fn whole(value: &Value) -> u64 {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
    .unwrap_or_else(|| panic!("expected a non-negative integer, got {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_trip_through_json_numbers() {
        assert_eq!(parse_cents("135"), Some(13_500));
        assert_eq!(parse_cents("0.1"), Some(10));
        assert_eq!(parse_cents("-2.05"), Some(-205));
        assert_eq!(parse_cents("1.005"), None);
        assert_eq!(parse_cents("1e3"), None);
        assert_eq!(cents_to_json(13_500).to_string(), "135");
        assert_eq!(cents_to_json(13_550).to_string(), "135.5");
        assert_eq!(cents_to_json(5).to_string(), "0.05");
    }
}
