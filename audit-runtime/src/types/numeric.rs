//! `numeric`: kept as its exact decimal text.

use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// A `numeric` value, kept losslessly as PostgreSQL's decimal text (`"12.50"`, `"NaN"`,
/// `"Infinity"`, `"-Infinity"`).
///
/// The JSON number is taken from the text directly, never through `f64`, so 40-digit
/// values keep every digit and trailing zeros (the scale) survive. Equality is textual:
/// `1.0` and `1.00` differ, as their scales do in PostgreSQL's output.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Numeric(String);

impl Numeric {
    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the value is `NaN`.
    pub fn is_nan(&self) -> bool {
        self.0 == "NaN"
    }
}

impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` is a plain decimal: optional `-`, digits, optional `.digits`, optional
/// exponent (JSON allows one; PostgreSQL never writes it but accepts it).
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && frac.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

impl FromStr for Numeric {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if matches!(s, "NaN" | "Infinity" | "-Infinity") || is_decimal(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("numeric", s))
        }
    }
}

impl serde::Serialize for Numeric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if is_decimal(&self.0) {
            // Emit the digits as a JSON number without going through f64.
            let raw = serde_json::value::RawValue::from_string(self.0.clone())
                .map_err(serde::ser::Error::custom)?;
            raw.serialize(s)
        } else {
            s.serialize_str(&self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Numeric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // The raw JSON token: a number's digits exactly as written, or a quoted special.
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let text = raw.get();
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(special @ ("NaN" | "Infinity" | "-Infinity")) => Ok(Self(special.to_owned())),
            Some(_) => Err(D::Error::custom(format!("invalid numeric {text}"))),
            // Reuse the token's allocation for the digits.
            None if is_decimal(text) => Ok(Self(Box::<str>::from(raw).into())),
            None => Err(D::Error::custom(ParseError::new("numeric", text))),
        }
    }
}

/// Conversions to and from `rust_decimal::Decimal` (feature `rust_decimal`).
///
/// `Decimal` holds 28 significant digits and no NaN or infinities, so the conversion
/// from `Numeric` can fail; it never rounds.
#[cfg(feature = "rust_decimal")]
mod decimal {
    use super::{Numeric, ParseError};
    use rust_decimal::Decimal;

    impl TryFrom<&Numeric> for Decimal {
        type Error = ParseError;

        fn try_from(n: &Numeric) -> Result<Self, Self::Error> {
            let text = n.as_str();
            let parsed = if text.contains(['e', 'E']) {
                Decimal::from_scientific(text)
            } else {
                Decimal::from_str_exact(text)
            };
            parsed.map_err(|_| ParseError::new("decimal", text))
        }
    }

    impl From<Decimal> for Numeric {
        fn from(d: Decimal) -> Self {
            Self(d.to_string())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn exact_or_error() {
            let n: Numeric = "12.50".parse().unwrap();
            let d = Decimal::try_from(&n).unwrap();
            assert_eq!(d.to_string(), "12.50");
            assert_eq!(Numeric::from(d), n);
            let long: Numeric = "1234567890123456789012345678901234567890".parse().unwrap();
            assert!(Decimal::try_from(&long).is_err());
            assert!(Decimal::try_from(&"NaN".parse::<Numeric>().unwrap()).is_err());
        }
    }
}

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
mod pg {
    use super::Numeric;
    use crate::types::BoxError;
    use postgres_types::{FromSql, Type};

    const NUMERIC_NEG: u16 = 0x4000;
    const NUMERIC_NAN: u16 = 0xC000;
    const NUMERIC_PINF: u16 = 0xD000;
    const NUMERIC_NINF: u16 = 0xF000;

    /// Decodes the binary form (base-10000 digits, weight, sign, display scale) into the
    /// same text PostgreSQL's `numeric_out` prints.
    impl<'a> FromSql<'a> for Numeric {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            let word = |i: usize| -> Result<u16, BoxError> {
                raw.get(i * 2..i * 2 + 2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .ok_or_else(|| "truncated numeric".into())
            };
            let ndigits = word(0)? as usize;
            let weight = word(1)? as i16 as i64;
            let sign = word(2)?;
            let dscale = word(3)? as usize;
            match sign {
                NUMERIC_NAN => return Ok(Self("NaN".into())),
                NUMERIC_PINF => return Ok(Self("Infinity".into())),
                NUMERIC_NINF => return Ok(Self("-Infinity".into())),
                _ => {}
            }
            let digits = (0..ndigits)
                .map(|i| word(4 + i))
                .collect::<Result<Vec<_>, _>>()?;
            let digit = |i: i64| -> u16 {
                if i < 0 || i as usize >= digits.len() {
                    0
                } else {
                    digits[i as usize]
                }
            };
            let mut out = String::new();
            if sign == NUMERIC_NEG {
                out.push('-');
            }
            // Integer part: base-10000 groups 0..=weight.
            if weight < 0 {
                out.push('0');
            } else {
                for i in 0..=weight {
                    let d = digit(i);
                    if i == 0 {
                        out.push_str(&d.to_string());
                    } else {
                        out.push_str(&format!("{d:04}"));
                    }
                }
            }
            if dscale > 0 {
                out.push('.');
                let mut frac = String::new();
                let mut i = weight + 1;
                while frac.len() < dscale {
                    frac.push_str(&format!("{:04}", digit(i)));
                    i += 1;
                }
                frac.truncate(dscale);
                out.push_str(&frac);
            }
            Ok(Self(out))
        }

        fn accepts(ty: &Type) -> bool {
            *ty == Type::NUMERIC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Numeric;

    #[test]
    fn keeps_every_digit() {
        let text = "1234567890123456789012345678901234567890.1234567890";
        let n: Numeric = serde_json::from_str(text).unwrap();
        assert_eq!(n.as_str(), text);
        assert_eq!(serde_json::to_string(&n).unwrap(), text);
        let nan: Numeric = serde_json::from_str("\"NaN\"").unwrap();
        assert!(nan.is_nan());
        assert!(serde_json::from_str::<Numeric>("\"12\"").is_err());
        assert!(serde_json::from_str::<Numeric>("true").is_err());
    }
}
