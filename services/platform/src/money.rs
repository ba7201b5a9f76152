//! Exact numbers at the JSON edge. Inside, cash and prices are integer cents (tick 0.01) and
//! quantities whole lots (1 share); nothing here ever touches `f32`/`f64`.
//!
//! Inputs arrive as JSON numbers or numeric strings, read from their raw text: `12`, `12.5`,
//! `"12.50"`. Rejected: exponents, NaN/infinity, more decimals than the unit allows (non-zero),
//! signs other than a leading minus, values beyond 64 bits. Outputs are JSON numbers, integral
//! values as JSON integers (`135`, never `135.0`).

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::ApiError;

/// Cents per currency unit: the tick is 0.01.
pub const CENTS_PER_UNIT: u64 = 100;

/// The text of a raw JSON number or numeric string, or why it is neither.
fn numeric_text(raw: &RawValue, field: &str) -> Result<String, ApiError> {
    let text = raw.get().trim();
    let text = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|_| ApiError::bad_request(format!("{field} must be a number")))?
    } else {
        text.to_owned()
    };
    let digits = text.strip_prefix('-').unwrap_or(&text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) {
        return Err(ApiError::bad_request(format!(
            "{field} must be a plain decimal number"
        )));
    }
    Ok(text)
}

/// Parses `raw` as an exact decimal (any sign), or a 400 naming `field`.
pub fn parse_decimal(raw: &RawValue, field: &str) -> Result<Decimal, ApiError> {
    let text = numeric_text(raw, field)?;
    Decimal::from_str_exact(&text)
        .map_err(|_| ApiError::bad_request(format!("{field} is too large or too precise")))
}

/// Converts `value` to a positive integer count of `1/scale` units, or a 400.
fn positive_units(value: Decimal, scale: u64, field: &str) -> Result<u64, ApiError> {
    if value <= Decimal::ZERO {
        return Err(ApiError::bad_request(format!(
            "{field} must be greater than 0"
        )));
    }
    let units = value
        .checked_mul(Decimal::from(scale))
        .ok_or_else(|| ApiError::bad_request(format!("{field} is too large")))?;
    if !units.fract().is_zero() {
        let allowed = if scale == 1 {
            "a whole number"
        } else {
            "at most 2 decimals"
        };
        return Err(ApiError::bad_request(format!(
            "{field} must have {allowed}"
        )));
    }
    u64::try_from(units).map_err(|_| ApiError::bad_request(format!("{field} is too large")))
}

/// A positive amount of money (price, deposit) in cents.
pub fn parse_positive_cents(raw: &RawValue, field: &str) -> Result<u64, ApiError> {
    positive_units(parse_decimal(raw, field)?, CENTS_PER_UNIT, field)
}

/// A positive whole quantity of lots.
pub fn parse_positive_lots(raw: &RawValue, field: &str) -> Result<u64, ApiError> {
    positive_units(parse_decimal(raw, field)?, 1, field)
}

/// Money in cents, emitted as a JSON number in currency units (`135`, `12.5`, `0.07`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub u64);

impl Money {
    /// The exact decimal text: no trailing zeros, no decimal point when integral.
    pub fn to_json_text(self) -> String {
        let whole = self.0 / CENTS_PER_UNIT;
        let cents = self.0 % CENTS_PER_UNIT;
        match cents {
            0 => whole.to_string(),
            c if c % 10 == 0 => format!("{whole}.{}", c / 10),
            c => format!("{whole}.{c:02}"),
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(CENTS_PER_UNIT) {
            return serializer.serialize_u64(self.0 / CENTS_PER_UNIT);
        }
        let raw = RawValue::from_string(self.to_json_text()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("valid json in test")
    }

    #[test]
    fn integral_money_is_a_json_integer() {
        assert_eq!(
            serde_json::to_string(&Money(13_500)).ok().as_deref(),
            Some("135")
        );
        assert_eq!(
            serde_json::to_string(&Money(1_250)).ok().as_deref(),
            Some("12.5")
        );
        assert_eq!(
            serde_json::to_string(&Money(7)).ok().as_deref(),
            Some("0.07")
        );
        assert_eq!(serde_json::to_string(&Money(0)).ok().as_deref(), Some("0"));
    }

    #[test]
    fn parses_numbers_and_numeric_strings() {
        assert_eq!(
            parse_positive_cents(&raw("135"), "price").ok(),
            Some(13_500)
        );
        assert_eq!(
            parse_positive_cents(&raw("12.5"), "price").ok(),
            Some(1_250)
        );
        assert_eq!(
            parse_positive_cents(&raw("\"0.07\""), "price").ok(),
            Some(7)
        );
        assert_eq!(parse_positive_cents(&raw("1.500"), "price").ok(), Some(150));
        assert_eq!(
            parse_positive_lots(&raw("15509763000"), "q").ok(),
            Some(15_509_763_000)
        );
    }

    #[test]
    fn rejects_bad_numbers() {
        for bad in [
            "1e5", "\"1e5\"", "1E2", "\"NaN\"", "\"ten\"", "0", "-1", "1.001", "true", "\"\"",
            "\"+1\"", "\"1.\"", "\" 1\"", "\"-0.5\"",
        ] {
            assert!(
                parse_positive_cents(&raw(bad), "price").is_err(),
                "{bad} accepted"
            );
        }
        assert!(parse_positive_lots(&raw("1.5"), "quantity").is_err());
        assert!(parse_positive_lots(&raw("18446744073709551616"), "quantity").is_err());
        assert!(parse_positive_cents(&raw("99999999999999999999999999999"), "amount").is_err());
    }
}
