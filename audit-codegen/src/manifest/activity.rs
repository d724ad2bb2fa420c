//! `[activity]`: partitioning of the activity table and retention of its history.

use super::location::SourceFile;
use super::raw::RawActivity;
use super::suggest::closest;
use crate::Diagnostic;
use crate::spec::{ActivityOptions, Partition};
use toml::Spanned;

/// The units a retention may use, singular and plural.
const UNITS: [(&str, &str); 4] = [
    ("day", "days"),
    ("week", "weeks"),
    ("month", "months"),
    ("year", "years"),
];

/// Resolves `[activity]`, reporting every mistake.
pub(crate) fn activity(
    file: &SourceFile,
    raw: &RawActivity,
    audit_schema: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> ActivityOptions {
    let partition = match &raw.partition {
        None => Partition::None,
        Some(value) => partition(file, value, diagnostics),
    };
    let retention =
        raw.retention
            .as_ref()
            .and_then(|value| match parse_retention(value.get_ref()) {
                Ok(normal) => Some(normal),
                Err((message, help)) => {
                    let d = file.at(&value.span(), message);
                    diagnostics.push(match help {
                        Some(help) => d.with_help(help),
                        None => d,
                    });
                    None
                }
            });
    if let Some(value) = &raw.retention {
        let written = raw.partition.as_ref().map(|p| p.get_ref().as_str());
        let message = match written {
            None => Some(
                "retention needs a partitioned activity table: history is expired by dropping whole partitions",
            ),
            Some("none") => {
                Some("retention needs a partitioned activity table, and partition is \"none\"")
            }
            // Another value is reported above, or partitions.
            Some(_) => None,
        };
        if let Some(message) = message {
            diagnostics.push(file.at(&value.span(), message).with_help(
                "set partition = \"month\" (or \"week\", \"day\") in [activity], or remove retention",
            ));
        }
    }
    let keep = raw.retention_keep_table.as_ref();
    if let (Some(keep), None) = (keep, &raw.retention) {
        diagnostics.push(
            file.at(
                &keep.span(),
                "retention_keep_table only applies when a retention is set",
            )
            .with_help("add retention = \"13 months\" (say), or remove retention_keep_table"),
        );
    }
    if partition != Partition::None && !is_plain_name(audit_schema) {
        let span = raw.partition.as_ref().map_or(0..0, Spanned::span);
        diagnostics.push(
            file.at(
                &span,
                format!(
                    "a partitioned activity table needs an audit_schema that is a plain \
                     lower-case name: pg_partman does not quote {audit_schema:?}"
                ),
            )
            .with_help("use an audit_schema of lower-case letters, digits and underscores"),
        );
    }
    ActivityOptions {
        partition,
        retention,
        retention_keep_table: keep.is_some_and(|k| *k.get_ref()),
    }
}

fn partition(
    file: &SourceFile,
    value: &Spanned<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Partition {
    let name = value.get_ref();
    if let Some((_, p)) = Partition::ALL.iter().find(|(n, _)| n == name) {
        return *p;
    }
    let mut d = file.at(
        &value.span(),
        format!("unknown partition interval {name:?}; expected none, day, week or month"),
    );
    // pg_partman's and PostgreSQL's spellings of the same intervals.
    let alias = match name.to_ascii_lowercase().as_str() {
        "daily" | "days" | "1 day" => Some("day"),
        "weekly" | "weeks" | "1 week" => Some("week"),
        "monthly" | "months" | "1 month" => Some("month"),
        "off" | "false" | "no" => Some("none"),
        _ => None,
    };
    let suggestion = alias.or_else(|| closest(name, Partition::ALL.iter().map(|(n, _)| *n)));
    if let Some(close) = suggestion {
        d = d.with_help(format!("did you mean {close:?}?"));
    }
    diagnostics.push(d);
    Partition::None
}

/// A name pg_partman handles without quoting: lower-case letters, digits, underscores.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parses a retention such as `13 months` or `1 year 6 months` into its normal form
/// (units in the plural, as PostgreSQL prints intervals), or a message and a help.
pub(crate) fn parse_retention(text: &str) -> Result<String, (String, Option<String>)> {
    const EXAMPLE: &str = "write a number and a unit (days, weeks, months, years), \
                           e.g. retention = \"13 months\"";
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Err(("retention is empty".into(), Some(EXAMPLE.into())));
    }
    if !words.len().is_multiple_of(2) {
        return Err((
            format!("retention {text:?} is not a duration"),
            Some(EXAMPLE.into()),
        ));
    }
    let mut parts = Vec::new();
    let mut total = 0u64;
    for pair in words.chunks(2) {
        let Ok(count) = pair[0].parse::<u32>() else {
            return Err((
                format!("retention {text:?}: {:?} is not a whole number", pair[0]),
                Some(EXAMPLE.into()),
            ));
        };
        let unit = pair[1].to_ascii_lowercase();
        let Some((singular, plural)) = UNITS.iter().find(|(s, p)| unit == *s || unit == *p) else {
            let names = UNITS.iter().flat_map(|(s, p)| [*s, *p]);
            let help = match closest(&unit, names) {
                Some(close) => format!("did you mean {close:?}?"),
                None => EXAMPLE.into(),
            };
            return Err((
                format!(
                    "retention {text:?}: unknown unit {:?}; expected days, weeks, months or years",
                    pair[1]
                ),
                Some(help),
            ));
        };
        total += u64::from(count);
        parts.push(format!(
            "{count} {}",
            if count == 1 { singular } else { plural }
        ));
    }
    if total == 0 {
        return Err((
            format!("retention {text:?} keeps nothing"),
            Some(
                "give a duration longer than zero, or remove retention to keep all history".into(),
            ),
        ));
    }
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::parse_retention;

    #[test]
    fn retentions_are_normalised() {
        assert_eq!(parse_retention("13 months").unwrap(), "13 months");
        assert_eq!(
            parse_retention(" 1  Years 6 month").unwrap(),
            "1 year 6 months"
        );
        assert_eq!(parse_retention("90 days").unwrap(), "90 days");
    }

    #[test]
    fn bad_retentions_say_why() {
        let (message, help) = parse_retention("13 monts").unwrap_err();
        assert!(message.contains("unknown unit \"monts\""), "{message}");
        assert_eq!(help.as_deref(), Some("did you mean \"months\"?"));
        assert!(
            parse_retention("13")
                .unwrap_err()
                .0
                .contains("not a duration")
        );
        assert!(parse_retention("").unwrap_err().0.contains("empty"));
        assert!(
            parse_retention("0 days")
                .unwrap_err()
                .0
                .contains("keeps nothing")
        );
        assert!(
            parse_retention("-1 days")
                .unwrap_err()
                .0
                .contains("whole number")
        );
    }
}
