//! `money`: an integer amount of the currency's minor unit.

use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// A `money` value in minor units (cents), as PostgreSQL stores it (an `i64`).
///
/// `to_jsonb` writes money as `lc_monetary` formats it (`"-$1,234.50"` in the `C`
/// locale). Parsing keeps the digits and the sign (a leading `-` or parentheses) and
/// ignores currency symbols and group separators; it assumes the locale's decimal point
/// is `.` or `,` followed by exactly the two fractional digits of the `C` and most other
/// locales. Prints the `C` locale form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money(pub i64);

impl FromStr for Money {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new("money", s);
        let negative = s.contains('-') || (s.starts_with('(') && s.ends_with(')'));
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
        // The decimal separator is the last '.' or ',' followed by exactly two digits.
        let bytes = s.as_bytes();
        let has_fraction = bytes.len() >= 3 && {
            let tail: Vec<u8> = bytes
                .iter()
                .rev()
                .skip_while(|b| !b.is_ascii_digit())
                .copied()
                .take(3)
                .collect();
            tail.len() == 3
                && tail[0].is_ascii_digit()
                && tail[1].is_ascii_digit()
                && matches!(tail[2], b'.' | b',')
        };
        if digits.is_empty() {
            return Err(err());
        }
        let mut value: i128 = 0;
        for d in &digits {
            value = value * 10 + i128::from(d - b'0');
            if value > i128::from(u64::MAX) {
                return Err(err());
            }
        }
        if !has_fraction {
            value *= 100;
        }
        let value = if negative { -value } else { value };
        i64::try_from(value).map(Self).map_err(|_| err())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}${grouped}.{:02}", abs % 100)
    }
}

super::string_serde!(Money, "a money string");

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
impl<'a> postgres_types::FromSql<'a> for Money {
    fn from_sql(_: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, super::BoxError> {
        Ok(Self(i64::from_be_bytes(
            raw.try_into().map_err(|_| "money needs 8 bytes")?,
        )))
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        *ty == postgres_types::Type::MONEY
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn c_locale_and_extremes() {
        for (text, cents) in [
            ("-$1,234.50", -123_450),
            ("$0.00", 0),
            ("$92,233,720,368,547,758.07", i64::MAX),
            ("-$92,233,720,368,547,758.08", i64::MIN),
            ("1.234,56 €", 123_456),
            ("($5.00)", -500),
        ] {
            assert_eq!(text.parse::<Money>().unwrap(), Money(cents), "{text}");
        }
        assert_eq!(Money(-123_450).to_string(), "-$1,234.50");
        assert_eq!(Money(i64::MIN).to_string(), "-$92,233,720,368,547,758.08");
        assert!("$".parse::<Money>().is_err());
    }
}
