//! Code generation timing: a synthetic schema of many tables, a manifest auditing all of
//! them, and the time from manifest text + schema model to written output, first run and
//! a rerun with nothing to do.
//!
//! The timing itself runs in the `codegen-bench` binary, built in the debug profile as
//! build scripts are (see [`crate::codegen_runner`]).

use crate::model::CodegenTimes;
use audit_codegen::model::{Column, Identity, Schema, Table, TableKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Column types of the synthetic tables, cycled: what application schemas mix.
const TYPES: &[&str] = &[
    "text",
    "character varying(64)",
    "integer",
    "numeric(12,2)",
    "boolean",
    "timestamp with time zone",
    "jsonb",
    "date",
    "uuid",
    "double precision",
    "smallint",
    "bytea",
    "text[]",
    "inet",
    "interval",
    "real",
    "timestamp without time zone",
    "time without time zone",
    "character(3)",
];

/// The synthetic schema: `tables` tables of `columns` columns, an identity key first;
/// every tenth table has a composite key, spread over two schemas.
pub fn synthetic_schema(tables: usize, columns: usize) -> Schema {
    let mut schema = Schema::default();
    for t in 0..tables {
        let composite = t % 10 == 9;
        let mut cols = vec![Column {
            nullable: false,
            identity: Some(Identity::Always),
            ..Column::new("id", "bigint")
        }];
        for c in 1..columns.max(2) {
            let type_name = TYPES[(c + t) % TYPES.len()];
            cols.push(Column {
                nullable: c % 3 != 0,
                ..Column::new(format!("col_{c:02}"), type_name)
            });
        }
        if composite {
            cols[1].nullable = false;
        }
        schema.tables.push(Table {
            schema: schema_of(t).into(),
            name: format!("table_{t:04}"),
            kind: TableKind::Ordinary,
            partition_of: None,
            primary_key: Some(if composite {
                vec!["id".into(), cols[1].name.clone()]
            } else {
                vec!["id".into()]
            }),
            columns: cols,
        });
    }
    schema.normalize();
    schema
}

fn schema_of(table: usize) -> &'static str {
    if table % 5 == 4 { "sales" } else { "public" }
}

/// A manifest auditing every synthetic table; every third table excludes a column, and
/// the schema model is read from `snapshot`.
pub fn manifest_text(tables: usize, columns: usize, snapshot: &str) -> String {
    let mut text = format!(
        "actor_id_type = \"bigint\"\n\n[schema]\nsnapshot = \"{snapshot}\"\n\n\
         [migrations]\ndir = \"migrations\"\n"
    );
    for t in 0..tables {
        text.push_str(&format!("\n[tables.\"{}.table_{t:04}\"]\n", schema_of(t)));
        if t % 3 == 0 && columns > 3 {
            text.push_str(&format!("exclude = [\"col_{:02}\"]\n", columns - 1));
        }
    }
    text
}

/// A project directory holding the manifest and the schema snapshot.
pub fn write_project(dir: &Path, tables: usize, columns: usize) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let schema = synthetic_schema(tables, columns);
    std::fs::write(dir.join("schema.json"), schema.to_snapshot_json())?;
    let manifest = dir.join("audit.toml");
    std::fs::write(&manifest, manifest_text(tables, columns, "schema.json"))?;
    Ok(manifest)
}

/// What one generation run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
    /// Time per step, when the steps are timed separately (empty once `Config` is used).
    pub phases: Vec<(String, Duration)>,
}

/// The one place that runs code generation for the timing: exactly what a build script's
/// `audit_codegen::generate()` does (manifest, schema snapshot, typed Rust into `out_dir`,
/// migrations and lock), without the `cargo:` output.
pub fn generate(manifest: &Path, out_dir: &Path) -> Result<Written, String> {
    let generated = audit_codegen::Config::new()
        .manifest(manifest)
        .out_dir(out_dir)
        .cargo_output(false)
        .check(false)
        .write_migrations(true)
        .generate()
        .map_err(|e| e.to_string())?;
    let mut bytes = 0;
    for path in &generated.written {
        bytes += std::fs::metadata(path).map_or(0, |m| m.len());
    }
    Ok(Written {
        files: generated.written.len(),
        bytes,
        phases: Vec::new(),
    })
}

/// What [`generate`] times, for the report.
pub const PIPELINE: &str = "audit_codegen::Config::generate (manifest, snapshot, typed Rust, \
     migrations and lock)";

/// Times `rounds` first runs (each in a new project directory under `scratch`) and the
/// no-op rerun after each.
pub fn time(
    scratch: &Path,
    tables: usize,
    columns: usize,
    rounds: usize,
) -> Result<CodegenTimes, String> {
    let mut times = CodegenTimes {
        tables,
        columns,
        pipeline: PIPELINE.to_owned(),
        ..CodegenTimes::default()
    };
    for round in 0..rounds.max(1) {
        let dir = scratch.join(format!("round-{round}"));
        let _ = std::fs::remove_dir_all(&dir);
        let manifest =
            write_project(&dir, tables, columns).map_err(|e| format!("{}: {e}", dir.display()))?;
        let out_dir = dir.join("out");
        let (first, written) = timed(|| generate(&manifest, &out_dir))?;
        let (noop, again) = timed(|| generate(&manifest, &out_dir))?;
        if again.files != 0 {
            return Err(format!(
                "the rerun wrote {} files; a no-op rerun must write nothing",
                again.files
            ));
        }
        times.first.push(first);
        times.noop.push(noop);
        times.files = written.files;
        times.bytes = written.bytes;
        times.first_phases = written.phases;
        times.noop_phases = again.phases;
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(times)
}

fn timed<T>(f: impl FnOnce() -> Result<T, String>) -> Result<(Duration, T), String> {
    let started = Instant::now();
    let value = f()?;
    Ok((started.elapsed(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_manifest_resolves() {
        let schema = synthetic_schema(12, 20);
        assert_eq!(schema.tables.len(), 12);
        assert!(schema.tables.iter().all(|t| t.columns.len() == 20));
        let text = manifest_text(12, 20, "schema.json");
        let manifest =
            audit_codegen::manifest::Manifest::parse(Path::new("/x/audit.toml"), &text).unwrap();
        let spec = manifest.resolve(&schema).unwrap();
        assert_eq!(spec.tables.len(), 12);
        assert_eq!(spec.tables[0].excluded, ["col_19"]);
    }

    #[test]
    fn rerun_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("audit-bench-codegen-{}", std::process::id()));
        let times = time(&dir, 5, 6, 1).unwrap();
        assert!(times.files > 0 && times.bytes > 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
