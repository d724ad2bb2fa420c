//! `real` and `double precision`, including the non-finite values JSON cannot hold.

use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// A float that may be `NaN` or infinite, which `to_jsonb` writes as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"`.
///
/// Equality treats `NaN` as equal to `NaN` (PostgreSQL does too) and `0.0` as equal to
/// `-0.0`: `to_jsonb` writes negative zero as `0`, so history cannot tell them apart.
#[derive(Debug, Clone, Copy, Default)]
pub struct Float<T>(pub T);

/// `real`.
pub type Float4 = Float<f32>;
/// `double precision`.
pub type Float8 = Float<f64>;

/// The two float widths, parsed from their own decimal text (an `f32` is never rounded
/// twice through `f64`).
pub trait FloatKind: Copy + PartialEq + FromStr + fmt::Display + Into<f64> {
    /// Whether the value is NaN.
    fn nan(self) -> bool;
    /// Whether the value is infinite; the sign tells which.
    fn infinite(self) -> Option<bool>;
    /// The value for a non-finite text form.
    fn special(text: &str) -> Option<Self>;
}

macro_rules! float_kind {
    ($t:ty) => {
        impl FloatKind for $t {
            fn nan(self) -> bool {
                self.is_nan()
            }
            fn infinite(self) -> Option<bool> {
                self.is_infinite().then_some(self.is_sign_positive())
            }
            fn special(text: &str) -> Option<Self> {
                match text {
                    "NaN" => Some(<$t>::NAN),
                    "Infinity" => Some(<$t>::INFINITY),
                    "-Infinity" => Some(<$t>::NEG_INFINITY),
                    _ => None,
                }
            }
        }
    };
}
float_kind!(f32);
float_kind!(f64);

impl<T: FloatKind> PartialEq for Float<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || (self.0.nan() && other.0.nan())
    }
}

impl<T: FloatKind> fmt::Display for Float<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.nan() {
            f.write_str("NaN")
        } else {
            match self.0.infinite() {
                Some(true) => f.write_str("Infinity"),
                Some(false) => f.write_str("-Infinity"),
                None => self.0.fmt(f),
            }
        }
    }
}

impl<T: FloatKind> FromStr for Float<T> {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(v) = T::special(s) {
            return Ok(Self(v));
        }
        // Rust's parser also takes "inf", "nan", "+1": PostgreSQL's JSON never has them.
        let plain = s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
            && s.bytes().next().is_some_and(|b| b != b'+');
        match s.parse() {
            Ok(v) if plain => Ok(Self(v)),
            _ => Err(ParseError::new("float", s)),
        }
    }
}

impl<T: FloatKind> serde::Serialize for Float<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.nan() || self.0.infinite().is_some() {
            s.collect_str(self)
        } else {
            s.serialize_f64(self.0.into())
        }
    }
}

impl<'de, T: FloatKind> serde::Deserialize<'de> for Float<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // The raw token, parsed by Rust's correctly rounded parser: serde_json's own
        // float parsing is best-effort (without its `float_roundtrip` feature) and can
        // be one unit in the last place off, and an `f32` read through `f64` would be
        // rounded twice. Boxed rather than borrowed so that decoding from a
        // `serde_json::Value` works too.
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let text = raw.get();
        let token = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(quoted) if T::special(quoted).is_some() => quoted,
            Some(_) => return Err(D::Error::custom(format!("invalid float {text}"))),
            None => text,
        };
        token.parse().map_err(D::Error::custom)
    }
}

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
impl<'a, T: FloatKind + postgres_types::FromSql<'a>> postgres_types::FromSql<'a> for Float<T> {
    fn from_sql(ty: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, super::BoxError> {
        T::from_sql(ty, raw).map(Self)
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        T::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_and_numbers() {
        let v: Vec<Float8> =
            serde_json::from_str(r#"["NaN", "Infinity", "-Infinity", 1.5, 0, 1e300]"#).unwrap();
        assert!(v[0].0.is_nan());
        assert_eq!(v[1].0, f64::INFINITY);
        assert_eq!(v[2].0, f64::NEG_INFINITY);
        assert_eq!(v[3].0, 1.5);
        assert_eq!(v[5].0, 1e300);
        // serde_json's default parser reads this one unit in the last place off.
        let exact: Float8 = serde_json::from_str("-1.4760693822849887e-143").unwrap();
        assert_eq!(exact.0, -1.4760693822849887e-143);
        let f: Float4 = serde_json::from_str("0.00000015").unwrap();
        assert_eq!(f.0, 1.5e-7_f32);
        assert!(serde_json::from_str::<Float8>("\"inf\"").is_err());
        assert!(serde_json::from_str::<Float8>("\"1\"").is_err());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["NaN","Infinity","-Infinity",1.5,0.0,1e+300]"#
        );
    }
}
