//! Turning history values into HTML: every character from the audit trail passes
//! through [`escape_into`], which escapes markup and shows invisible and direction-
//! changing characters as visible code points, so a hostile value renders inert.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::value::RawValue;
use std::fmt::{self, Write as _};

/// Text longer than this many characters is shortened, with the whole value one click
/// away.
const SHORT_TEXT: usize = 160;
/// JSON up to this many characters is shown on one line.
const SHORT_JSON: usize = 60;
/// Pretty-printed JSON longer than this many lines is folded.
const SHORT_LINES: usize = 12;

/// HTML built by this module: already escaped, written as is by the templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Html(pub(crate) String);

impl fmt::Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Html {}

/// Characters that change the direction or joining of the text around them, or are
/// invisible: shown as their code point instead of acting on the page.
fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// Appends `text` to `out`, HTML-escaped, hidden characters made visible.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_hidden(c) => {
                let _ = write!(out, "<span class=\"ctl\">U+{:04X}</span>", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `text`, escaped.
pub(crate) fn text(text: &str) -> Html {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    Html(out)
}

/// A point in time as a `<time>` element: UTC text, which the page's script can show in
/// the viewer's zone.
pub(crate) fn time(at: DateTime<Utc>) -> Html {
    Html(format!(
        "<time datetime=\"{}\">{} UTC</time>",
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        at.format("%Y-%m-%d %H:%M:%S%.3f")
    ))
}

/// Text, shortened to [`SHORT_TEXT`] characters with the whole of it in a disclosure.
fn long_text(out: &mut String, value: &str, class: &str) {
    let count = value.chars().count();
    if count <= SHORT_TEXT {
        let _ = write!(out, "<span class=\"{class}\">");
        escape_into(out, value);
        out.push_str("</span>");
        return;
    }
    let cut: String = value.chars().take(SHORT_TEXT).collect();
    let _ = write!(out, "<span class=\"{class}\">");
    escape_into(out, &cut);
    let _ = write!(
        out,
        "…</span><details class=\"more\"><summary>all {count} characters</summary>\
         <pre class=\"{class}\">"
    );
    escape_into(out, value);
    out.push_str("</pre></details>");
}

/// The SQL type family of a column, as far as showing its values goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `timestamp with time zone`: recorded in UTC.
    Timestamptz,
    /// `json`, `jsonb`.
    Json,
    /// `bytea`.
    Bytea,
    /// Anything else: shown by its JSON value.
    Other,
}

impl Kind {
    /// The kind of a column of SQL type `ty` (as `format_type` prints it).
    pub(crate) fn of(ty: &str) -> Self {
        match ty {
            "timestamp with time zone" => Self::Timestamptz,
            "json" | "jsonb" => Self::Json,
            "bytea" => Self::Bytea,
            _ => Self::Other,
        }
    }
}

/// One recorded value (raw JSON text) of a column of kind `kind`.
pub(crate) fn value(raw: Option<&RawValue>, kind: Kind) -> Html {
    let mut out = String::new();
    let Some(raw) = raw else {
        out.push_str("<span class=\"absent\">(not recorded)</span>");
        return Html(out);
    };
    let json = raw.get().trim();
    if json == "null" {
        out.push_str("<span class=\"null\">NULL</span>");
        return Html(out);
    }
    match json.as_bytes().first() {
        Some(b'"') => {
            let s: String = serde_json::from_str(json).unwrap_or_else(|_| json.to_owned());
            if kind == Kind::Timestamptz
                && let Ok(at) = NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
            {
                return time(at.and_utc());
            }
            if kind == Kind::Bytea && s.starts_with("\\x") {
                let bytes = (s.len() - 2) / 2;
                if s.len() > SHORT_TEXT {
                    let _ = write!(out, "<span class=\"bytes\">{bytes} bytes</span> ");
                }
                long_text(&mut out, &s, "bytea");
            } else {
                long_text(&mut out, &s, "text");
            }
        }
        Some(b'{' | b'[') if json.chars().count() <= SHORT_JSON => {
            out.push_str("<code class=\"json\">");
            escape_into(&mut out, &inline_json(json));
            out.push_str("</code>");
        }
        Some(b'{' | b'[') => {
            let pretty = pretty_json(json);
            let lines = pretty.lines().count();
            if lines <= SHORT_LINES && pretty.chars().count() <= SHORT_TEXT * 4 {
                out.push_str("<pre class=\"json\">");
                escape_into(&mut out, &pretty);
                out.push_str("</pre>");
            } else {
                let head: Vec<&str> = pretty.lines().take(SHORT_LINES.min(4)).collect();
                out.push_str("<pre class=\"json\">");
                escape_into(&mut out, &head.join("\n"));
                let _ = write!(
                    out,
                    "\n…</pre><details class=\"more\"><summary>all {lines} lines</summary>\
                     <pre class=\"json\">"
                );
                escape_into(&mut out, &pretty);
                out.push_str("</pre></details>");
            }
        }
        _ => {
            // Numbers (exactly as recorded: no rounding through f64) and booleans.
            out.push_str("<span class=\"scalar\">");
            escape_into(&mut out, json);
            out.push_str("</span>");
        }
    }
    Html(out)
}

/// `json` (valid JSON text) indented by two spaces, numbers and strings kept exactly as
/// written.
pub(crate) fn pretty_json(json: &str) -> String {
    format_json(json, true)
}

/// `json` (valid JSON text) re-spaced: one value per line, indented, when `pretty`;
/// else on one line with a space after each `,`.
fn format_json(json: &str, pretty: bool) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    // `after_comma`: a line break (pretty) or a space; else (after an opening or before
    // a closing bracket) a line break or nothing.
    let newline = |out: &mut String, depth: usize, after_comma: bool| {
        if !pretty {
            if after_comma {
                out.push(' ');
            }
            return;
        }
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                out.push(escaped);
                            }
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                // Skip whitespace to see whether the container is empty.
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(']'));
                } else {
                    depth += 1;
                    newline(&mut out, depth, false);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth, false);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth, true);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `json` (valid JSON text) on one line, a space after each `,` and `:`, strings and
/// numbers kept exactly as written.
pub(crate) fn inline_json(json: &str) -> String {
    format_json(json, false)
}

/// Percent-encodes `segment` for one path segment or query value of a link: only
/// unreserved characters stay as they are.
pub(crate) fn url_part(segment: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(segment, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn markup_quotes_and_hidden_characters_are_inert() {
        let shown = text("<script>alert(1)</script>\"onload='x' &\u{202e}gpj.exe\u{2066}");
        assert_eq!(
            shown.0,
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onload=&#39;x&#39; &amp;\
             <span class=\"ctl\">U+202E</span>gpj.exe<span class=\"ctl\">U+2066</span>"
        );
    }

    #[test]
    fn values_by_kind() {
        assert_eq!(
            value(Some(&raw("\"2024-05-01T10:00:00.5\"")), Kind::Timestamptz).0,
            "<time datetime=\"2024-05-01T10:00:00.500000Z\">2024-05-01 10:00:00.500 UTC</time>"
        );
        assert_eq!(
            value(Some(&raw("12345678901234567890.123456789")), Kind::Other).0,
            "<span class=\"scalar\">12345678901234567890.123456789</span>"
        );
        assert_eq!(
            value(Some(&raw("null")), Kind::Other).0,
            "<span class=\"null\">NULL</span>"
        );
        let long = format!("\"{}\"", "a".repeat(500));
        let shown = value(Some(&raw(&long)), Kind::Other).0;
        assert!(shown.contains("all 500 characters"), "{shown}");
        let bytes = format!("\"\\\\x{}\"", "ab".repeat(200));
        let shown = value(Some(&raw(&bytes)), Kind::Bytea).0;
        assert!(
            shown.starts_with("<span class=\"bytes\">200 bytes</span>"),
            "{shown}"
        );
    }

    #[test]
    fn json_is_indented_exactly() {
        assert_eq!(
            pretty_json(r#"{"a": [1, 2.50], "b": {}, "c": "x, {y}: \"z\""}"#),
            "{\n  \"a\": [\n    1,\n    2.50\n  ],\n  \"b\": {},\n  \"c\": \"x, {y}: \\\"z\\\"\"\n}"
        );
    }

    #[test]
    fn short_json_is_inline() {
        assert_eq!(
            value(Some(&raw(r#"{"a":[1,2],"b":"x"}"#)), Kind::Json).0,
            "<code class=\"json\">{&quot;a&quot;: [1, 2], &quot;b&quot;: &quot;x&quot;}</code>"
        );
        assert_eq!(inline_json(r#"{"s": "{ [ ,"}"#), r#"{"s": "{ [ ,"}"#);
    }

    #[test]
    fn url_parts_are_encoded() {
        assert_eq!(url_part("javascript:alert(1)"), "javascript%3Aalert%281%29");
        assert_eq!(url_part("a/b c"), "a%2Fb%20c");
    }
}
