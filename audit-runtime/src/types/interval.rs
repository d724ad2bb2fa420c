//! `interval`: months, days and microseconds, kept apart as PostgreSQL keeps them.

use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// An `interval`. The three parts are independent (a month is not a fixed number of
/// days, a day not always 24 hours), exactly as PostgreSQL stores them.
///
/// Parses both text forms `to_jsonb` may produce, depending on the writer's
/// `IntervalStyle`: `postgres` (the default, `"1 year 2 mons -3 days +04:05:06.7"`) and
/// `iso_8601` (`"P1Y2M-3DT4H5M6.7S"`). Prints the `postgres` form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Months (years are 12 months).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

/// `[+-]HH:MM:SS[.ffffff]` (hours unbounded) as microseconds.
fn parse_clock(text: &str) -> Option<i64> {
    let (neg, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut parts = rest.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s = parse_seconds(parts.next()?)?;
    let total = (h * 3600 + m * 60) * 1_000_000 + s;
    Some(if neg { -total } else { total })
}

/// `[-]S[.ffffff]` as microseconds (digits only, at most six fractional).
fn parse_seconds(text: &str) -> Option<i64> {
    let (neg, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_us = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(6 - frac.len() as u32)
    };
    let total = whole.parse::<i64>().ok()?.checked_mul(1_000_000)? + frac_us;
    Some(if neg { -total } else { total })
}

fn parse_postgres(text: &str) -> Option<Interval> {
    let mut iv = Interval::default();
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.next() {
        if word.contains(':') {
            iv.microseconds = iv.microseconds.checked_add(parse_clock(word)?)?;
            continue;
        }
        let n: i32 = word.strip_prefix('+').unwrap_or(word).parse().ok()?;
        match words.next()? {
            "year" | "years" => iv.months = iv.months.checked_add(n.checked_mul(12)?)?,
            "mon" | "mons" => iv.months = iv.months.checked_add(n)?,
            "day" | "days" => iv.days = iv.days.checked_add(n)?,
            _ => return None,
        }
    }
    Some(iv)
}

fn parse_iso(text: &str) -> Option<Interval> {
    let body = text.strip_prefix('P')?;
    let (date, time) = body.split_once('T').unwrap_or((body, ""));
    let mut iv = Interval::default();
    let mut take = |part: &str, in_time: bool| -> Option<()> {
        let mut rest = part;
        while !rest.is_empty() {
            let end = rest.find(|c: char| c.is_ascii_alphabetic())?;
            let (number, unit) = (&rest[..end], &rest[end..end + 1]);
            rest = &rest[end + 1..];
            match (in_time, unit) {
                (true, "S") => iv.microseconds += parse_seconds(number)?,
                (true, "H") => iv.microseconds += number.parse::<i64>().ok()? * 3_600_000_000,
                (true, "M") => iv.microseconds += number.parse::<i64>().ok()? * 60_000_000,
                (false, "Y") => iv.months += number.parse::<i32>().ok()?.checked_mul(12)?,
                (false, "M") => iv.months += number.parse::<i32>().ok()?,
                (false, "W") => iv.days += number.parse::<i32>().ok()?.checked_mul(7)?,
                (false, "D") => iv.days += number.parse::<i32>().ok()?,
                _ => return None,
            }
        }
        Some(())
    };
    take(date, false)?;
    take(time, true)?;
    Some(iv)
}

impl FromStr for Interval {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = if s.starts_with('P') {
            parse_iso(s)
        } else {
            parse_postgres(s)
        };
        parsed.ok_or_else(|| ParseError::new("interval", s))
    }
}

impl fmt::Display for Interval {
    /// The `postgres` IntervalStyle form, as `interval_out` prints it: a positive part
    /// after a negative one carries an explicit `+`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut after_negative = false;
        let (years, months) = (self.months / 12, self.months % 12);
        for (n, unit) in [(years, "year"), (months, "mon"), (self.days, "day")] {
            if n == 0 {
                continue;
            }
            let plus = if after_negative && n > 0 { "+" } else { "" };
            let s = if n == 1 { "" } else { "s" };
            parts.push(format!("{plus}{n} {unit}{s}"));
            after_negative = n < 0;
        }
        let us = self.microseconds;
        if us != 0 || parts.is_empty() {
            let abs = us.unsigned_abs();
            let sign = if us < 0 {
                "-"
            } else if after_negative {
                "+"
            } else {
                ""
            };
            let secs = abs / 1_000_000;
            let mut clock = format!(
                "{sign}{:02}:{:02}:{:02}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            if !abs.is_multiple_of(1_000_000) {
                let frac = format!("{:06}", abs % 1_000_000);
                clock.push('.');
                clock.push_str(frac.trim_end_matches('0'));
            }
            parts.push(clock);
        }
        f.write_str(&parts.join(" "))
    }
}

super::string_serde!(Interval, "an interval string");

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
impl<'a> postgres_types::FromSql<'a> for Interval {
    fn from_sql(_: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, super::BoxError> {
        let raw: [u8; 16] = raw.try_into().map_err(|_| "interval needs 16 bytes")?;
        Ok(Self {
            microseconds: i64::from_be_bytes(raw[..8].try_into()?),
            days: i32::from_be_bytes(raw[8..12].try_into()?),
            months: i32::from_be_bytes(raw[12..].try_into()?),
        })
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        *ty == postgres_types::Type::INTERVAL
    }
}

#[cfg(test)]
mod tests {
    use super::Interval;

    fn iv(months: i32, days: i32, microseconds: i64) -> Interval {
        Interval {
            months,
            days,
            microseconds,
        }
    }

    #[test]
    fn both_styles() {
        let cases = [
            (
                "1 year 2 mons -3 days +04:05:06.7",
                "P1Y2M-3DT4H5M6.7S",
                iv(14, -3, 14_706_700_000),
            ),
            ("-1 days -00:00:01", "P-1DT-1S", iv(0, -1, -1_000_000)),
            ("00:00:00", "PT0S", iv(0, 0, 0)),
            (
                "-1 years -2 mons +3 days -04:05:06",
                "P-1Y-2M3DT-4H-5M-6S",
                iv(-14, 3, -14_706_000_000),
            ),
            ("100:00:00", "PT100H", iv(0, 0, 360_000_000_000)),
        ];
        for (pg, iso, want) in cases {
            assert_eq!(pg.parse::<Interval>().unwrap(), want, "{pg}");
            assert_eq!(iso.parse::<Interval>().unwrap(), want, "{iso}");
            assert_eq!(want.to_string(), pg);
        }
        assert!("1 fortnight".parse::<Interval>().is_err());
        assert!("".parse::<Interval>().is_err());
    }
}
