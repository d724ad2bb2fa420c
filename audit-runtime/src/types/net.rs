//! `inet`, `cidr`, `macaddr`, `macaddr8`.

use super::ParseError;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An `inet` or `cidr` value: an address and its network prefix length.
///
/// PostgreSQL prints an `inet` without `/mask` when the prefix covers the whole address
/// (`/32`, `/128`); that is the same value as with it, so `prefix` is then the full
/// length and printing leaves the mask out again. `cidr` always prints its mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inet {
    /// The address (host bits may be set for `inet`).
    pub addr: IpAddr,
    /// The prefix length in bits.
    pub prefix: u8,
}

/// `cidr`: the same representation as [`Inet`].
pub type Cidr = Inet;

fn full_prefix(addr: &IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

impl FromStr for Inet {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new("inet", s);
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err())?;
        let prefix = match prefix {
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().map_err(|_| err())?,
            Some(_) => return Err(err()),
            None => full_prefix(&addr),
        };
        if prefix > full_prefix(&addr) {
            return Err(err());
        }
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for Inet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == full_prefix(&self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

super::string_serde!(Inet, "an inet string");

/// A MAC address of `N` bytes, printed `08:00:2b:01:02:03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac<const N: usize>(pub [u8; N]);

/// `macaddr` (6 bytes).
pub type MacAddr = Mac<6>;
/// `macaddr8` (8 bytes).
pub type MacAddr8 = Mac<8>;

impl<const N: usize> FromStr for Mac<N> {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new("macaddr", s);
        let mut out = [0u8; N];
        let mut parts = s.split(':');
        for byte in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(Self(out))
    }
}

impl<const N: usize> fmt::Display for Mac<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl<const N: usize> serde::Serialize for Mac<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de, const N: usize> serde::Deserialize<'de> for Mac<N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<const N: usize> serde::de::Visitor<'_> for V<N> {
            type Value = Mac<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a MAC address of {N} bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Mac<N>, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V::<N>)
    }
}

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
mod pg {
    use super::*;
    use crate::types::BoxError;
    use postgres_types::{FromSql, Type};

    /// Binary form: family, prefix bits, is-cidr flag, address length, address bytes.
    impl<'a> FromSql<'a> for Inet {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            let [_, bits, _, len, addr @ ..] = raw else {
                return Err("truncated inet".into());
            };
            let addr = match (*len, addr.len()) {
                (4, 4) => IpAddr::from(<[u8; 4]>::try_from(addr)?),
                (16, 16) => IpAddr::from(<[u8; 16]>::try_from(addr)?),
                _ => return Err("invalid inet address length".into()),
            };
            Ok(Self {
                addr,
                prefix: *bits,
            })
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::INET || *ty == Type::CIDR
        }
    }

    impl<'a, const N: usize> FromSql<'a> for Mac<N> {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            Ok(Self(raw.try_into().map_err(|_| "wrong macaddr length")?))
        }
        fn accepts(ty: &Type) -> bool {
            (N == 6 && *ty == Type::MACADDR) || (N == 8 && *ty == Type::MACADDR8)
        }
    }
}
