//! `bytea`: raw bytes from PostgreSQL's hex (or escape) text form.

use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// A `bytea` value. `to_jsonb` writes it per `bytea_output`: hex (`"\\x00ff"`, the
/// default) or the older escape format (`"ab\\000"`); both parse. Prints hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytea(pub Vec<u8>);

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_escape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
        } else if s.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let octal = s.get(i + 1..i + 4)?;
            if !octal.iter().all(|b| (b'0'..=b'7').contains(b)) || octal[0] > b'3' {
                return None;
            }
            out.push((octal[0] - b'0') * 64 + (octal[1] - b'0') * 8 + (octal[2] - b'0'));
            i += 4;
        }
    }
    Some(out)
}

impl FromStr for Bytea {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new("bytea", s);
        match s.strip_prefix("\\x") {
            Some(hex) => {
                let hex = hex.as_bytes();
                if hex.len() % 2 != 0 {
                    return Err(err());
                }
                hex.chunks_exact(2)
                    .map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
                    .collect::<Option<Vec<u8>>>()
                    .map(Self)
                    .ok_or_else(err)
            }
            None => parse_escape(s.as_bytes()).map(Self).ok_or_else(err),
        }
    }
}

impl fmt::Display for Bytea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\\x")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

super::string_serde!(Bytea, "a bytea string");

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
impl<'a> postgres_types::FromSql<'a> for Bytea {
    fn from_sql(_: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, super::BoxError> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        *ty == postgres_types::Type::BYTEA
    }
}

#[cfg(test)]
mod tests {
    use super::Bytea;

    #[test]
    fn hex_and_escape() {
        assert_eq!("\\x00ff".parse::<Bytea>().unwrap().0, vec![0, 255]);
        assert_eq!("\\x".parse::<Bytea>().unwrap().0, Vec::<u8>::new());
        assert_eq!("a\\000\\\\".parse::<Bytea>().unwrap().0, b"a\0\\".to_vec());
        assert!("\\x0".parse::<Bytea>().is_err());
        assert!("\\9".parse::<Bytea>().is_err());
        assert_eq!(Bytea(vec![0, 255]).to_string(), "\\x00ff");
    }
}
