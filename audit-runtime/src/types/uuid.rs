//! `uuid`.

use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// A `uuid`, printed in the lower-case hyphenated form PostgreSQL uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl FromStr for Uuid {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new("uuid", s);
        let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
        if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(err());
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| err())?;
            out[i] = u8::from_str_radix(text, 16).map_err(|_| err())?;
        }
        Ok(Self(out))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

super::string_serde!(Uuid, "a uuid string");

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
impl<'a> postgres_types::FromSql<'a> for Uuid {
    fn from_sql(_: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, super::BoxError> {
        Ok(Self(raw.try_into().map_err(|_| "uuid needs 16 bytes")?))
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        *ty == postgres_types::Type::UUID
    }
}
