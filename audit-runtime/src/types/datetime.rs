//! Dates and timestamps, with PostgreSQL's `infinity` / `-infinity` and BC years.

use super::ParseError;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use std::fmt;
use std::str::FromStr;

/// A date or timestamp that may also be PostgreSQL's `infinity` or `-infinity`.
///
/// Ordered as PostgreSQL orders them: `NegInfinity` < every value < `Infinity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finite<T> {
    /// `-infinity`: before every value.
    NegInfinity,
    /// An ordinary value.
    Value(T),
    /// `infinity`: after every value.
    Infinity,
}

impl<T> Finite<T> {
    /// The ordinary value, `None` for the infinities.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Finite<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

/// `date`.
pub type Date = Finite<NaiveDate>;
/// `timestamp` (without time zone).
pub type Timestamp = Finite<NaiveDateTime>;
/// `timestamp with time zone`, normalised to UTC.
pub type Timestamptz = Finite<DateTime<Utc>>;

/// A value type `Finite` can wrap: parsed from and printed as PostgreSQL's ISO text.
pub trait Temporal: Sized {
    /// Parses the text form of a finite value.
    fn parse_pg(text: &str) -> Option<Self>;
    /// Writes the text form `to_jsonb` uses.
    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// The type's name in error messages.
    const NAME: &'static str;
}

/// Splits a trailing ` BC` off, returning whether it was there.
fn strip_bc(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

fn digits(text: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = text.bytes().take_while(u8::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    Some((text[..n].parse().ok()?, &text[n..]))
}

/// `YYYY-MM-DD` (four or more year digits), returning the rest of the text.
fn parse_ymd(text: &str, bc: bool) -> Option<(NaiveDate, &str)> {
    let (year, rest) = digits(text, 4, 7)?;
    let (month, rest) = digits(rest.strip_prefix('-')?, 2, 2)?;
    let (day, rest) = digits(rest.strip_prefix('-')?, 2, 2)?;
    // 1 BC is astronomical year 0.
    let year = if bc { 1 - year as i32 } else { year as i32 };
    Some((NaiveDate::from_ymd_opt(year, month, day)?, rest))
}

/// `HH:MM:SS[.ffffff]`, returning the rest of the text.
pub(crate) fn parse_hms(text: &str) -> Option<(NaiveTime, &str)> {
    let (h, rest) = digits(text, 2, 2)?;
    let (m, rest) = digits(rest.strip_prefix(':')?, 2, 2)?;
    let (s, mut rest) = digits(rest.strip_prefix(':')?, 2, 2)?;
    let mut micros = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 6 {
            return None;
        }
        micros = frac[..n].parse::<u32>().ok()? * 10u32.pow(6 - n as u32);
        rest = &frac[n..];
    }
    Some((NaiveTime::from_hms_micro_opt(h, m, s, micros)?, rest))
}

/// `±HH[:MM[:SS]]` or `Z`, as seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    if text == "Z" {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let mut seconds = 0;
    let mut rest = &text[1..];
    for (i, scale) in [3600, 60, 1].into_iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix(':') {
                Some(r) => rest = r,
                None => break,
            }
        }
        let (v, r) = digits(rest, 2, 2)?;
        seconds += v as i32 * scale;
        rest = r;
    }
    rest.is_empty().then_some(sign * seconds)
}

fn parse_datetime(text: &str, bc: bool) -> Option<(NaiveDateTime, &str)> {
    let (date, rest) = parse_ymd(text, bc)?;
    let rest = rest.strip_prefix(['T', ' '])?;
    let (time, rest) = parse_hms(rest)?;
    Some((date.and_time(time), rest))
}

fn write_ymd(date: NaiveDate, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let year = date.year();
    let shown = if year <= 0 { 1 - year } else { year };
    write!(f, "{shown:04}-{:02}-{:02}", date.month(), date.day())
}

pub(crate) fn write_hms(time: NaiveTime, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "{:02}:{:02}:{:02}",
        time.hour(),
        time.minute(),
        time.second()
    )?;
    let micros = time.nanosecond() / 1000;
    if micros > 0 {
        let frac = format!("{micros:06}");
        write!(f, ".{}", frac.trim_end_matches('0'))?;
    }
    Ok(())
}

fn bc_suffix(year: i32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if year <= 0 {
        f.write_str(" BC")
    } else {
        Ok(())
    }
}

impl Temporal for NaiveDate {
    const NAME: &'static str = "date";

    fn parse_pg(text: &str) -> Option<Self> {
        let (text, bc) = strip_bc(text);
        let (date, rest) = parse_ymd(text, bc)?;
        rest.is_empty().then_some(date)
    }

    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ymd(*self, f)?;
        bc_suffix(self.year(), f)
    }
}

impl Temporal for NaiveDateTime {
    const NAME: &'static str = "timestamp";

    fn parse_pg(text: &str) -> Option<Self> {
        let (text, bc) = strip_bc(text);
        let (dt, rest) = parse_datetime(text, bc)?;
        rest.is_empty().then_some(dt)
    }

    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ymd(self.date(), f)?;
        f.write_str("T")?;
        write_hms(self.time(), f)?;
        bc_suffix(self.year(), f)
    }
}

impl Temporal for DateTime<Utc> {
    const NAME: &'static str = "timestamptz";

    /// Without an offset the text is UTC (how the audit triggers store top-level
    /// `timestamptz` columns); with one (inside arrays and composites, in the writer's
    /// session time zone) it is converted to UTC.
    fn parse_pg(text: &str) -> Option<Self> {
        let (text, bc) = strip_bc(text);
        let (local, rest) = parse_datetime(text, bc)?;
        let offset = if rest.is_empty() {
            0
        } else {
            parse_offset(rest)?
        };
        let utc = local.checked_sub_signed(chrono::Duration::seconds(offset.into()))?;
        Some(utc.and_utc())
    }

    fn write_pg(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.naive_utc().write_pg(f)
    }
}

impl<T: Temporal> fmt::Display for Finite<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NegInfinity => f.write_str("-infinity"),
            Self::Value(v) => v.write_pg(f),
            Self::Infinity => f.write_str("infinity"),
        }
    }
}

impl<T: Temporal> FromStr for Finite<T> {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "infinity" => Ok(Self::Infinity),
            "-infinity" => Ok(Self::NegInfinity),
            _ => T::parse_pg(s)
                .map(Self::Value)
                .ok_or_else(|| ParseError::new(T::NAME, s)),
        }
    }
}

impl<T: Temporal> serde::Serialize for Finite<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de, T: Temporal> serde::Deserialize<'de> for Finite<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<T: Temporal> serde::de::Visitor<'_> for V<T> {
            type Value = Finite<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a {} string", T::NAME)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// `time with time zone`: a time of day and its UTC offset, kept as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeTz {
    /// The local time of day.
    pub time: NaiveTime,
    /// The offset from UTC.
    pub offset: FixedOffset,
}

impl fmt::Display for TimeTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(self.time, f)?;
        let secs = self.offset.local_minus_utc();
        let (sign, abs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
        write!(f, "{sign}{:02}", abs / 3600)?;
        if abs % 3600 != 0 {
            write!(f, ":{:02}", abs % 3600 / 60)?;
        }
        if abs % 60 != 0 {
            write!(f, ":{:02}", abs % 60)?;
        }
        Ok(())
    }
}

impl FromStr for TimeTz {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseError::new("timetz", s);
        let (time, rest) = parse_hms(s).ok_or_else(err)?;
        let offset = parse_offset(rest).ok_or_else(err)?;
        Ok(Self {
            time,
            offset: FixedOffset::east_opt(offset).ok_or_else(err)?,
        })
    }
}

super::string_serde!(TimeTz, "a timetz string");

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
mod pg {
    use super::*;
    use crate::types::BoxError;
    use postgres_types::{FromSql, Type};

    fn epoch() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("2000-01-01 is a valid date")
    }

    fn read<const N: usize>(raw: &[u8]) -> Result<[u8; N], BoxError> {
        raw.try_into()
            .map_err(|_| format!("expected {N} bytes, got {}", raw.len()).into())
    }

    fn micros_to_naive(raw: &[u8]) -> Result<Finite<NaiveDateTime>, BoxError> {
        Ok(match i64::from_be_bytes(read(raw)?) {
            i64::MAX => Finite::Infinity,
            i64::MIN => Finite::NegInfinity,
            us => Finite::Value(
                epoch()
                    .checked_add_signed(chrono::Duration::microseconds(us))
                    .ok_or("timestamp out of chrono's range")?,
            ),
        })
    }

    impl<'a> FromSql<'a> for Finite<NaiveDateTime> {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            micros_to_naive(raw)
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMESTAMP
        }
    }

    impl<'a> FromSql<'a> for Finite<DateTime<Utc>> {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            Ok(match micros_to_naive(raw)? {
                Finite::Value(v) => Finite::Value(v.and_utc()),
                Finite::Infinity => Finite::Infinity,
                Finite::NegInfinity => Finite::NegInfinity,
            })
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMESTAMPTZ
        }
    }

    impl<'a> FromSql<'a> for Finite<NaiveDate> {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            Ok(match i32::from_be_bytes(read(raw)?) {
                i32::MAX => Finite::Infinity,
                i32::MIN => Finite::NegInfinity,
                days => Finite::Value(
                    epoch()
                        .date()
                        .checked_add_signed(chrono::Duration::days(days.into()))
                        .ok_or("date out of chrono's range")?,
                ),
            })
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::DATE
        }
    }

    impl<'a> FromSql<'a> for TimeTz {
        fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
            let raw: [u8; 12] = read(raw)?;
            let micros = i64::from_be_bytes(raw[..8].try_into()?);
            // PostgreSQL stores the zone as seconds *west* of UTC.
            let west = i32::from_be_bytes(raw[8..].try_into()?);
            let time = NaiveTime::MIN
                .overflowing_add_signed(chrono::Duration::microseconds(micros))
                .0;
            Ok(Self {
                time,
                offset: west
                    .checked_neg()
                    .and_then(FixedOffset::east_opt)
                    .ok_or("invalid timetz offset")?,
            })
        }
        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMETZ
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_postgres_writes() {
        let t: Timestamptz = "2024-05-01T12:00:00+02:00".parse().unwrap();
        let u: Timestamptz = "2024-05-01T10:00:00".parse().unwrap();
        assert_eq!(t, u);
        let odd: Timestamptz = "1850-01-01T05:53:28+05:53:28".parse().unwrap();
        assert_eq!(odd.to_string(), "1850-01-01T00:00:00");
        let bc: Date = "0044-03-15 BC".parse().unwrap();
        assert_eq!(bc.value().unwrap().year(), -43);
        assert_eq!(bc.to_string(), "0044-03-15 BC");
        let far: Date = "12345-01-01".parse().unwrap();
        assert_eq!(far.to_string(), "12345-01-01");
        let ts: Timestamp = "1900-01-01T12:00:00.5".parse().unwrap();
        assert_eq!(ts.to_string(), "1900-01-01T12:00:00.5");
        assert_eq!("infinity".parse::<Timestamp>().unwrap(), Finite::Infinity);
        assert!("2024-05-01".parse::<Timestamp>().is_err());
        assert!("2024-13-01".parse::<Date>().is_err());
        let tz: TimeTz = "10:00:00.123+05:30".parse().unwrap();
        assert_eq!(tz.to_string(), "10:00:00.123+05:30");
    }

    #[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
    #[test]
    fn binary_timetz_with_an_impossible_zone_is_an_error() {
        use postgres_types::{FromSql, Type};
        let raw = |west: i32| {
            let mut raw = 36_000_000_000i64.to_be_bytes().to_vec();
            raw.extend(west.to_be_bytes());
            raw
        };
        let tz = TimeTz::from_sql(&Type::TIMETZ, &raw(-19_800)).unwrap();
        assert_eq!(tz.to_string(), "10:00:00+05:30");
        // i32::MIN has no negation: this panicked in debug builds.
        assert!(TimeTz::from_sql(&Type::TIMETZ, &raw(i32::MIN)).is_err());
        assert!(TimeTz::from_sql(&Type::TIMETZ, &raw(90_000)).is_err());
    }
}
