//! The date and time types for code generated with `time_crate = "time"` (feature `time`).
//!
//! They parse and print exactly like their chrono twins in [`crate::types`] (the text
//! forms are PostgreSQL's, not the `time` crate's); the range is the `time` crate's
//! (years -9999 to 9999 without its `large-dates` feature), and a value outside it is a
//! decoding error, never a wrapped or clamped value.

use super::ParseError;
use super::datetime::{Finite, Temporal, parse_hms, write_hms};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use std::fmt;
use std::str::FromStr;

/// `date`.
pub type Date = Finite<::time::Date>;
/// `timestamp` (without time zone).
pub type Timestamp = Finite<::time::PrimitiveDateTime>;
/// `timestamp with time zone`, normalised to UTC.
pub type Timestamptz = Finite<::time::OffsetDateTime>;

fn date_from_chrono(d: NaiveDate) -> Option<::time::Date> {
    ::time::Date::from_ordinal_date(d.year(), d.ordinal() as u16).ok()
}

fn date_to_chrono(d: ::time::Date) -> NaiveDate {
    NaiveDate::from_yo_opt(d.year(), u32::from(d.ordinal()))
        .expect("every time::Date is in chrono's range")
}

fn time_from_chrono(t: NaiveTime) -> Option<::time::Time> {
    ::time::Time::from_hms_micro(
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond() / 1000,
    )
    .ok()
}

fn time_to_chrono(t: ::time::Time) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(
        u32::from(t.hour()),
        u32::from(t.minute()),
        u32::from(t.second()),
        t.microsecond(),
    )
    .expect("every time::Time is a valid time of day")
}

fn datetime_from_chrono(dt: NaiveDateTime) -> Option<::time::PrimitiveDateTime> {
    Some(::time::PrimitiveDateTime::new(
        date_from_chrono(dt.date())?,
        time_from_chrono(dt.time())?,
    ))
}

fn datetime_to_chrono(dt: ::time::PrimitiveDateTime) -> NaiveDateTime {
    date_to_chrono(dt.date()).and_time(time_to_chrono(dt.time()))
}

impl Temporal for ::time::Date {
    const NAME: &'static str = "date";

    fn parse_pg(text: &str) -> Option<Self> {
        date_from_chrono(NaiveDate::parse_pg(text)?)
    }

    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        date_to_chrono(*self).write_pg(f)
    }
}

impl Temporal for ::time::PrimitiveDateTime {
    const NAME: &'static str = "timestamp";

    fn parse_pg(text: &str) -> Option<Self> {
        datetime_from_chrono(NaiveDateTime::parse_pg(text)?)
    }

    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        datetime_to_chrono(*self).write_pg(f)
    }
}

impl Temporal for ::time::OffsetDateTime {
    const NAME: &'static str = "timestamptz";

    /// Without an offset the text is UTC; with one it is converted to UTC.
    fn parse_pg(text: &str) -> Option<Self> {
        let utc = chrono::DateTime::<chrono::Utc>::parse_pg(text)?;
        Some(datetime_from_chrono(utc.naive_utc())?.assume_utc())
    }

    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utc = self.to_offset(::time::UtcOffset::UTC);
        datetime_to_chrono(::time::PrimitiveDateTime::new(utc.date(), utc.time())).write_pg(f)
    }
}

/// `time` (without time zone) as a `time::Time`, in PostgreSQL's text form
/// (`"10:00:00.5"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time(pub ::time::Time);

impl FromStr for Time {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse_hms(s) {
            Some((t, "")) => time_from_chrono(t).map(Self),
            _ => None,
        }
        .ok_or_else(|| ParseError::new("time", s))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(time_to_chrono(self.0), f)
    }
}

super::string_serde!(Time, "a time string");

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
mod pg {
    use super::*;
    use crate::types::BoxError;
    use postgres_types::{FromSql, Type};

    /// Reads the chrono twin and converts it, failing outside the `time` crate's range.
    fn convert<'a, C: FromSql<'a>, T>(
        ty: &Type,
        raw: &'a [u8],
        f: impl Fn(C) -> Option<T>,
    ) -> Result<T, BoxError> {
        f(C::from_sql(ty, raw)?).ok_or_else(|| "value outside the time crate's range".into())
    }

    fn finite<A, B>(v: Finite<A>, f: impl Fn(A) -> Option<B>) -> Option<Finite<B>> {
        Some(match v {
            Finite::Value(a) => Finite::Value(f(a)?),
            Finite::Infinity => Finite::Infinity,
            Finite::NegInfinity => Finite::NegInfinity,
        })
    }

    impl<'a> FromSql<'a> for Finite<::time::Date> {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            convert(ty, raw, |v: Finite<NaiveDate>| finite(v, date_from_chrono))
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::DATE
        }
    }

    impl<'a> FromSql<'a> for Finite<::time::PrimitiveDateTime> {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            convert(ty, raw, |v: Finite<NaiveDateTime>| {
                finite(v, datetime_from_chrono)
            })
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMESTAMP
        }
    }

    impl<'a> FromSql<'a> for Finite<::time::OffsetDateTime> {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            convert(ty, raw, |v: Finite<chrono::DateTime<chrono::Utc>>| {
                finite(v, |d| {
                    Some(datetime_from_chrono(d.naive_utc())?.assume_utc())
                })
            })
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMESTAMPTZ
        }
    }

    impl<'a> FromSql<'a> for Time {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            convert(ty, raw, |t: NaiveTime| time_from_chrono(t).map(Time))
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIME
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_forms_as_chrono() {
        for text in [
            "2024-05-01T10:00:00.5",
            "0044-03-15T01:00:00 BC",
            "infinity",
        ] {
            assert_eq!(text.parse::<Timestamp>().unwrap().to_string(), text);
        }
        let tz: Timestamptz = "2024-05-01T12:00:00+02:00".parse().unwrap();
        assert_eq!(tz.to_string(), "2024-05-01T10:00:00");
        assert_eq!(
            "12345-01-01".parse::<Date>().ok(),
            None,
            "outside time's range"
        );
        assert_eq!(
            "0044-03-15 BC".parse::<Date>().unwrap().to_string(),
            "0044-03-15 BC"
        );
        let t: Time = "23:59:59.999999".parse().unwrap();
        assert_eq!(t.to_string(), "23:59:59.999999");
    }
}
