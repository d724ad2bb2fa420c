//! The compile time of the generated code, as a user's crate pays it: the typed Rust
//! `audit_codegen` writes for the synthetic schema (see [`crate::codegen`]) included in a
//! throw-away library crate whose only dependency is `audit-runtime`, built in the debug
//! profile. Dependencies are built first (untimed), so the timed build compiles the
//! generated module alone.
//!
//! Clean builds run with `CARGO_INCREMENTAL=0`, one per table count. The incremental
//! rebuild is the one a schema change costs: the largest module is built once with
//! incremental compilation (the dev profile's default), one column is added to one
//! table, the code is generated again and the rebuild is timed.

use crate::codegen::{self, synthetic_schema};
use crate::model::{GeneratedCompile, GeneratedSize, Timing};
use crate::options::workspace_root;
use audit_codegen::model::Column;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Measures clean builds of the module generated for each of `table_counts` tables of
/// `columns` columns (`rounds` builds each, interleaved), then the incremental rebuild
/// after one column is added to one table of the largest schema.
pub fn measure(
    table_counts: &[usize],
    columns: usize,
    rounds: usize,
) -> Result<GeneratedCompile, String> {
    let scratch =
        std::env::temp_dir().join(format!("audit-bench-generated-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let result = run(&scratch, table_counts, columns, rounds);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn run(
    scratch: &Path,
    table_counts: &[usize],
    columns: usize,
    rounds: usize,
) -> Result<GeneratedCompile, String> {
    let probe = scratch.join("probe");
    write_probe(&probe)?;
    // Dependencies first, untimed: an empty library.
    build(&probe, false)?;
    let mut result = GeneratedCompile {
        columns,
        ..GeneratedCompile::default()
    };
    let mut files = Vec::new();
    for &tables in table_counts {
        let code = generated_code(scratch, &synthetic_schema(tables, columns), tables, columns)?;
        result.sizes.push(GeneratedSize {
            tables,
            lines: code.lines(),
            bytes: code.bytes(),
            clean: Vec::new(),
        });
        files.push(code);
    }
    for _ in 0..rounds.max(1) {
        for (size, code) in result.sizes.iter_mut().zip(&files) {
            write_module(&probe, code)?;
            size.clean.push(build(&probe, false)?);
        }
    }
    if let Some(&tables) = table_counts.iter().max() {
        // The incremental cache of the unchanged module, then the changed one.
        let mut schema = synthetic_schema(tables, columns);
        let code = generated_code(scratch, &schema, tables, columns)?;
        write_module(&probe, &code)?;
        build(&probe, true)?;
        let changed = &mut schema.tables[tables / 2];
        changed.columns.push(Column {
            nullable: true,
            ..Column::new("added_column", "text")
        });
        result.changed_table = format!("{}.{}", changed.schema, changed.name);
        let code = generated_code(scratch, &schema, tables, columns)?;
        write_module(&probe, &code)?;
        result.incremental_tables = tables;
        result.incremental = Some(build(&probe, true)?);
    }
    Ok(result)
}

/// The library crate that includes the generated module, next to its own target
/// directory; the library starts empty.
fn write_probe(dir: &Path) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let runtime = workspace_root().join("audit-runtime");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"audit-generated-probe\"\nversion = \"0.0.0\"\n\
             edition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\n\
             audit-runtime = {{ path = {:?} }}\n",
            runtime.display().to_string(),
        ),
    )
    .map_err(io)?;
    std::fs::write(dir.join("src/lib.rs"), "").map_err(io)?;
    // The workspace's lock file pins the versions this workspace is tested with and lets
    // the build work offline.
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).map_err(io)?;
    Ok(())
}

/// The generated code: `audit.rs` and the files of the tables it includes.
struct Module {
    main: String,
    tables: Vec<(String, String)>,
}

impl Module {
    fn lines(&self) -> usize {
        self.main.lines().count()
            + self
                .tables
                .iter()
                .map(|(_, c)| c.lines().count())
                .sum::<usize>()
    }

    fn bytes(&self) -> usize {
        self.main.len() + self.tables.iter().map(|(_, c)| c.len()).sum::<usize>()
    }
}

/// Writes `code` as the probe's module: what `audit_runtime::include_audit!()` expands to.
/// Files whose contents did not change are left alone, as the build script leaves them.
fn write_module(probe: &Path, code: &Module) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", probe.display());
    let dir = probe.join("src").join(audit_codegen::rust::TABLE_DIR);
    std::fs::create_dir_all(&dir).map_err(io)?;
    let write = |path: PathBuf, text: &str| {
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        std::fs::write(&path, text).map_err(io)
    };
    for entry in std::fs::read_dir(&dir).map_err(io)?.flatten() {
        let name = entry.file_name();
        if !code
            .tables
            .iter()
            .any(|(n, _)| *n == *name.to_string_lossy())
        {
            std::fs::remove_file(entry.path()).map_err(io)?;
        }
    }
    for (name, text) in &code.tables {
        write(dir.join(name), text)?;
    }
    write(probe.join("src/audit.rs"), &code.main)?;
    std::fs::write(
        probe.join("src/lib.rs"),
        "//! The generated audit module.\n#![allow(missing_docs)]\ninclude!(\"audit.rs\");\n",
    )
    .map_err(io)
}

/// The typed Rust `audit_codegen` generates for `schema` with the synthetic manifest.
fn generated_code(
    scratch: &Path,
    schema: &audit_codegen::model::Schema,
    tables: usize,
    columns: usize,
) -> Result<Module, String> {
    let dir = scratch.join(format!("project-{tables}"));
    let _ = std::fs::remove_dir_all(&dir);
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(&dir).map_err(io)?;
    std::fs::write(dir.join("schema.json"), schema.to_snapshot_json()).map_err(io)?;
    let manifest = dir.join("audit.toml");
    std::fs::write(
        &manifest,
        codegen::manifest_text(tables, columns, "schema.json"),
    )
    .map_err(io)?;
    let out = dir.join("out");
    codegen::generate(&manifest, &out)?;
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let main = read(out.join("audit.rs"))?;
    let table_dir = out.join(audit_codegen::rust::TABLE_DIR);
    let mut tables = Vec::new();
    for entry in
        std::fs::read_dir(&table_dir).map_err(|e| format!("{}: {e}", table_dir.display()))?
    {
        let path = entry
            .map_err(|e| format!("{}: {e}", table_dir.display()))?
            .path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        tables.push((name, read(path)?));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Module { main, tables })
}

/// The CPU time (user and system) of this process's finished children, from
/// `/proc/self/stat` (Linux; `None` elsewhere). `cargo` waits for the `rustc` processes it
/// starts and this process waits for `cargo`, so a build's compilers are counted.
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // cutime and cstime are fields 16 and 17 of the whole line, 14 and 15 here (0-based
    // from the state field, the line's third), in USER_HZ ticks (100 per second).
    let ticks = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Runs `cargo build` in the probe and returns its wall time and the CPU time of the
/// build (`None` where it cannot be read).
fn build(probe: &Path, incremental: bool) -> Result<Timing, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = Command::new(cargo)
        .current_dir(probe)
        .env("CARGO_TARGET_DIR", probe.join("target"))
        .env("CARGO_INCREMENTAL", if incremental { "1" } else { "0" })
        .env_remove("RUSTFLAGS")
        .args(["build", "--offline", "--lib"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let wall = started.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "cargo build of the generated module failed:\n{}",
            tail.join("\n")
        ));
    }
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    Ok(Timing { wall, cpu })
}
