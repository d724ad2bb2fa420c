//! The settings needed before a schema can be read: the schema source and the
//! migrations directory and format. Also turns `toml` errors into diagnostics.

use super::location::SourceFile;
use super::raw::{RawMigrations, RawSchemaSource};
use super::suggest::closest;
use crate::Diagnostic;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where the schema model is read from. Paths are absolute (relative ones in the
/// manifest are relative to the manifest's directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaSource {
    /// A `pg_dump --schema-only` file (`pg_dump = "schema.sql"`).
    PgDump(PathBuf),
    /// A JSON snapshot of the schema model (`snapshot = "audit-schema.json"`).
    Snapshot(PathBuf),
    /// DDL files or directories applied in order (`ddl = ["migrations"]`).
    Ddl(Vec<PathBuf>),
    /// A live database (`live = "DATABASE_URL"`).
    Live {
        /// The environment variable holding the connection URL.
        env: String,
        /// Where to keep a snapshot of what was introspected, for offline builds.
        write_snapshot: Option<PathBuf>,
    },
}

pub use crate::migrate::MigrationFormat;

/// The `[migrations]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrations {
    /// The directory migrations are written to (absolute; default `migrations` next to
    /// the manifest).
    pub dir: PathBuf,
    /// The file layout.
    pub format: MigrationFormat,
}

/// A `toml` syntax or shape error (a value of the wrong type, say) as a diagnostic.
/// Unknown keys never get this far: [`super::keys`] reports and removes them first.
pub(crate) fn toml_error(file: &SourceFile, error: &toml::de::Error) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    file.at(&span, error.message().trim())
}

/// Resolves the `[schema]` table into a [`SchemaSource`].
pub(crate) fn schema_source(
    file: &SourceFile,
    base: &Path,
    raw: Option<&Spanned<RawSchemaSource>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<SchemaSource> {
    const HELP: &str = "set one of pg_dump, snapshot, ddl or live in [schema]";
    let Some(raw) = raw else {
        diagnostics.push(
            file.at(
                &(0..0),
                "the manifest has no [schema] table naming a schema source",
            )
            .with_help(HELP),
        );
        return None;
    };
    let s = raw.get_ref();
    let mut chosen: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
    let mut note = |key: &'static str, span: Option<std::ops::Range<usize>>| {
        if let Some(span) = span {
            chosen.push((key, span));
        }
    };
    note("pg_dump", s.pg_dump.as_ref().map(Spanned::span));
    note("snapshot", s.snapshot.as_ref().map(Spanned::span));
    note("ddl", s.ddl.as_ref().map(Spanned::span));
    note("live", s.live.as_ref().map(Spanned::span));
    chosen.sort_by_key(|(_, span)| span.start);

    let errors_before = diagnostics.len();
    if let (Some(write), None) = (&s.write_snapshot, &s.live) {
        diagnostics.push(
            file.at(
                &write.span(),
                format!(
                    "write_snapshot = {:?} only applies to a live schema source",
                    write.get_ref()
                ),
            )
            .with_help("remove write_snapshot, or read the schema with live = \"DATABASE_URL\""),
        );
    }
    match chosen.as_slice() {
        [] => {
            diagnostics.push(
                file.at(&raw.span(), "[schema] names no schema source")
                    .with_help(HELP),
            );
            return None;
        }
        [_] => {}
        [(first, _), rest @ ..] => {
            for (key, span) in rest {
                diagnostics.push(
                    file.at(
                        span,
                        format!("more than one schema source: {key} is set as well as {first}"),
                    )
                    .with_help("keep exactly one of pg_dump, snapshot, ddl or live"),
                );
            }
        }
    }
    let mut path = |p: &Spanned<String>| resolve_path(file, base, p, diagnostics);
    let source = if let Some(p) = &s.pg_dump {
        SchemaSource::PgDump(path(p)?)
    } else if let Some(p) = &s.snapshot {
        SchemaSource::Snapshot(path(p)?)
    } else if let Some(list) = &s.ddl {
        let paths: Vec<Option<PathBuf>> = list.get_ref().iter().map(&mut path).collect();
        if list.get_ref().is_empty() {
            diagnostics.push(file.at(&list.span(), "ddl lists no file or directory"));
        }
        SchemaSource::Ddl(paths.into_iter().collect::<Option<_>>()?)
    } else {
        let env = s.live.as_ref()?;
        let write_snapshot = match &s.write_snapshot {
            Some(p) => Some(path(p)?),
            None => None,
        };
        check_env_name(file, env, diagnostics);
        SchemaSource::Live {
            env: env.get_ref().clone(),
            write_snapshot,
        }
    };
    (diagnostics.len() == errors_before).then_some(source)
}

/// `live` names an environment variable; a URL written in its place would end up in
/// the repository, so it is refused with a hint.
fn check_env_name(file: &SourceFile, env: &Spanned<String>, diagnostics: &mut Vec<Diagnostic>) {
    let name = env.get_ref();
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        let d = file.at(
            &env.span(),
            format!("live = {name:?} is not the name of an environment variable"),
        );
        diagnostics.push(d.with_help(
            "live names the variable holding the connection URL, e.g. live = \"DATABASE_URL\"",
        ));
    }
}

/// A manifest path made absolute against the manifest's directory.
fn resolve_path(
    file: &SourceFile,
    base: &Path,
    path: &Spanned<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PathBuf> {
    let text = path.get_ref();
    if text.trim().is_empty() || text.contains('\0') {
        diagnostics.push(file.at(&path.span(), format!("invalid path {text:?}")));
        return None;
    }
    Some(base.join(text))
}

/// Resolves `[migrations]`.
pub(crate) fn migrations(
    file: &SourceFile,
    base: &Path,
    raw: &RawMigrations,
    diagnostics: &mut Vec<Diagnostic>,
) -> Migrations {
    let dir = match &raw.dir {
        Some(dir) => resolve_path(file, base, dir, diagnostics).unwrap_or_default(),
        None => base.join("migrations"),
    };
    let format = match &raw.format {
        None => MigrationFormat::default(),
        Some(format) => {
            let name = format.get_ref();
            match MigrationFormat::ALL.iter().find(|(n, _)| n == name) {
                Some((_, f)) => *f,
                None => {
                    let mut d = file.at(
                        &format.span(),
                        format!(
                            "unknown migration format {name:?}; expected sqlx, refinery, diesel or plain"
                        ),
                    );
                    let names = MigrationFormat::ALL.iter().map(|(n, _)| *n);
                    if let Some(close) = closest(name, names) {
                        d = d.with_help(format!("did you mean {close:?}?"));
                    }
                    diagnostics.push(d);
                    MigrationFormat::default()
                }
            }
        }
    };
    Migrations { dir, format }
}
