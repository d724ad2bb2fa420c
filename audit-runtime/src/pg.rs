//! `FromSql` for the activity row's own column types that `postgres-types` lacks.

use crate::activity::Xid8;
use postgres_types::{FromSql, Type};
use serde_json::value::RawValue;
use std::error::Error;

type BoxError = Box<dyn Error + Sync + Send>;

/// `xid8` is not among the types `postgres-types` knows; its binary form is a
/// big-endian `u64`.
impl<'a> FromSql<'a> for Xid8 {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let bytes: [u8; 8] = raw
            .try_into()
            .map_err(|_| format!("xid8 needs 8 bytes, got {}", raw.len()))?;
        Ok(Self(u64::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "xid8" || *ty == Type::INT8
    }
}

/// A json/jsonb value kept as raw text (the `serde_json` integration of `postgres-types`
/// would parse it into a `Value` and round numerics through `f64`).
pub(crate) struct RawJson(pub Box<RawValue>);

impl<'a> FromSql<'a> for RawJson {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        // jsonb's binary form is a version byte (1) followed by the text.
        let text = if *ty == Type::JSONB {
            match raw.split_first() {
                Some((1, rest)) => rest,
                _ => return Err("unsupported jsonb binary version".into()),
            }
        } else {
            raw
        };
        let text = std::str::from_utf8(text)?;
        Ok(Self(RawValue::from_string(text.to_owned())?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }
}

// `postgres` re-exports these from `tokio_postgres`: one type for both drivers.
#[cfg(feature = "postgres")]
pub(crate) use postgres::{Error as ClientError, Row};
#[cfg(all(feature = "tokio-postgres", not(feature = "postgres")))]
pub(crate) use tokio_postgres::{Error as ClientError, Row};
