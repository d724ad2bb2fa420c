//! The build-script entry point: [`generate`] and its builder [`Config`].

use crate::error::{Error, Result};
use crate::manifest::{Manifest, SchemaSource};
use crate::migrate;
use crate::model::Schema;
use crate::source;
use crate::spec::AuditSpec;
use std::path::{Path, PathBuf};

/// The environment variable that turns on check mode: nothing is written, and generation
/// fails with the list of pending changes when the committed migrations are not up to date.
/// Set it to `1` (or `true`) in CI.
pub const CHECK_ENV: &str = "AUDIT_CODEGEN_CHECK";

/// Generates with the default configuration: reads `audit.toml` in `CARGO_MANIFEST_DIR`,
/// writes `$OUT_DIR/audit.rs`, and writes new migrations (and `audit.lock`) when the audit
/// state changed.
///
/// ```no_run
/// // In build.rs, inside `fn main()`:
/// audit_codegen::generate().unwrap();
/// ```
pub fn generate() -> Result<Generated> {
    Config::new().generate()
}

/// [`generate`] for a build script that should fail cleanly: each error is printed as
/// `cargo::error=` lines (the first naming the file, line and column), which cargo shows
/// as `error:` lines and which make it fail the build once the script ends, with no
/// panic message or backtrace in between.
///
/// ```no_run
/// // In build.rs, inside `fn main()`:
/// audit_codegen::generate_or_fail();
/// ```
///
/// Returns what the run did, or `None` when it reported an error. Run outside cargo
/// (without `OUT_DIR`, or with [`Config::cargo_output`] off), it prints the error on
/// stderr and exits with status 1 instead. `cargo::error` needs cargo 1.84 or later.
/// [`generate`] stays the way to handle the error yourself.
pub fn generate_or_fail() -> Option<Generated> {
    Config::new().generate_or_fail()
}

/// Prints `error` the way [`generate_or_fail`] does: as `cargo::error=` lines, one per
/// line of its message, or as plain text.
fn report(error: &Error, cargo: bool, out: &mut impl std::io::Write) -> std::io::Result<()> {
    for line in error.to_string().lines().filter(|l| !l.trim().is_empty()) {
        if cargo {
            writeln!(out, "cargo::error={line}")?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()
}

/// What a generation run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    /// The Rust file written (or left as it was, when identical); it includes one file per
    /// table from the directory `audit/` beside it.
    pub rust_file: Option<PathBuf>,
    /// Files created in the migrations directory, and the lock file when it changed.
    pub written: Vec<PathBuf>,
    /// Warnings (also printed as `cargo:warning` when run from a build script).
    pub warnings: Vec<String>,
}

/// Options of a generation run; [`generate`] is `Config::new().generate()`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    manifest: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    check: Option<bool>,
    write_migrations: Option<bool>,
    cargo_output: Option<bool>,
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The manifest to read (default: `audit.toml` in `CARGO_MANIFEST_DIR`, else the
    /// current directory). Relative paths in it are relative to its directory.
    pub fn manifest(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = Some(path.into());
        self
    }

    /// Where `audit.rs` and the directory `audit/` of its tables' files are written
    /// (default: `OUT_DIR`; without it no Rust is written).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Check mode: write nothing, fail when migrations are not up to date (default: the
    /// [`CHECK_ENV`] environment variable).
    pub fn check(mut self, check: bool) -> Self {
        self.check = Some(check);
        self
    }

    /// Whether new migrations are written (default: yes, except while cargo verifies a
    /// package, where a build script must not modify the package).
    pub fn write_migrations(mut self, write: bool) -> Self {
        self.write_migrations = Some(write);
        self
    }

    /// Whether `cargo:` instructions are printed (default: when run by cargo, i.e. when
    /// `OUT_DIR` is set).
    pub fn cargo_output(mut self, print: bool) -> Self {
        self.cargo_output = Some(print);
        self
    }

    /// Runs the generation, reporting an error as [`generate_or_fail`] does: as
    /// `cargo::error=` lines when run by cargo (the build then fails), else on stderr
    /// followed by `exit(1)`.
    pub fn generate_or_fail(&self) -> Option<Generated> {
        let error = match self.generate() {
            Ok(generated) => return Some(generated),
            Err(error) => error,
        };
        if self.cargo() {
            // Nothing sensible is left to do when stdout is gone.
            let _ = report(&error, true, &mut std::io::stdout().lock());
            None
        } else {
            let _ = report(&error, false, &mut std::io::stderr().lock());
            std::process::exit(1)
        }
    }

    /// Whether `cargo:` instructions are printed.
    fn cargo(&self) -> bool {
        self.cargo_output
            .unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some())
    }

    /// Runs the generation.
    pub fn generate(&self) -> Result<Generated> {
        let cargo = self.cargo();
        let manifest_path = self.manifest_path();
        if cargo {
            println!("cargo:rerun-if-changed={}", manifest_path.display());
            println!("cargo:rerun-if-env-changed={CHECK_ENV}");
        }
        let (manifest, spec) = load_spec(&manifest_path, cargo)?;

        let mut generated = Generated::default();
        let out_dir = self
            .out_dir
            .clone()
            .or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from));
        match &out_dir {
            Some(out_dir) => {
                let path = out_dir.join("audit.rs");
                generated.warnings = render_rust_cached(&spec, &path)?;
                generated.rust_file = Some(path);
            }
            // Rendered anyway, so check mode and the CLI report generator errors.
            None => generated.warnings = crate::rust::render(&spec)?.warnings,
        }

        let lock_path = lock_path(&manifest_path);
        let base = manifest_path.parent().unwrap_or(Path::new(""));
        if cargo {
            println!("cargo:rerun-if-changed={}", lock_path.display());
        }
        let dir = manifest.migrations().dir.clone();
        let plan = plan_migrations(&manifest, &spec, &lock_path)?;
        if self.check_mode() {
            migrate::check(&plan, &lock_path)?;
        } else if self
            .write_migrations
            .unwrap_or_else(|| !verifying_package(base))
        {
            generated.written = migrate::apply(&plan, &dir, &lock_path)?;
        }
        if cargo {
            for warning in &generated.warnings {
                println!("cargo:warning={warning}");
            }
        }
        Ok(generated)
    }

    /// Renders without touching any file: the spec, the Rust code and the migration plan,
    /// as `generate` would compute them. Used by the CLI's `diff` and `check`.
    pub fn plan(&self) -> Result<(AuditSpec, migrate::Plan)> {
        let manifest_path = self.manifest_path();
        let (manifest, spec) = load_spec(&manifest_path, false)?;
        let plan = plan_migrations(&manifest, &spec, &lock_path(&manifest_path))?;
        Ok((spec, plan))
    }

    fn manifest_path(&self) -> PathBuf {
        self.manifest.clone().unwrap_or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join("audit.toml")
        })
    }

    fn check_mode(&self) -> bool {
        self.check.unwrap_or_else(|| {
            std::env::var(CHECK_ENV)
                .map(|v| matches!(v.trim(), "1" | "true" | "yes"))
                .unwrap_or(false)
        })
    }
}

/// Loads the manifest, reads the schema from its source and resolves the audit spec,
/// with the renames the schema source knows appended to the declared ones.
fn load_spec(manifest_path: &Path, cargo: bool) -> Result<(Manifest, AuditSpec)> {
    let manifest = Manifest::load(manifest_path)?;
    let (schema, renames) = match load_schema(&manifest, cargo) {
        Ok(loaded) => loaded,
        // The manifest's own mistakes first: an unknown key may be why the schema
        // source is not what was meant.
        Err(_) if !manifest.unknown_keys().is_empty() => {
            return Err(Error::Manifest(manifest.unknown_keys().to_vec()));
        }
        Err(error) => return Err(error),
    };
    let mut spec = manifest.resolve(&schema)?;
    spec.renames.extend(renames);
    Ok((manifest, spec))
}

/// The lock file lives next to the manifest.
fn lock_path(manifest_path: &Path) -> PathBuf {
    manifest_path.with_file_name("audit.lock")
}

/// Plans against the lock, refusing when the directory holds generated migrations the
/// lock does not record.
fn plan_migrations(
    manifest: &Manifest,
    spec: &AuditSpec,
    lock_path: &Path,
) -> Result<migrate::Plan> {
    let dir = &manifest.migrations().dir;
    let lock = migrate::Lock::load(lock_path)?;
    let unrecorded = migrate::unrecorded_migrations(dir, &lock)?;
    if !unrecorded.is_empty() {
        return Err(Error::Generate(format!(
            "{} holds generated audit migrations that {} does not record: {}; restore the \
             lock file from version control (it must be committed with the migrations)",
            dir.display(),
            lock_path.display(),
            unrecorded.join(", ")
        )));
    }
    migrate::plan::plan(
        spec,
        &lock,
        manifest.migrations().format,
        &migrate::list_directory(dir)?,
    )
}

/// Whether cargo is building a packaged crate: extracted to verify it (`cargo package` /
/// `cargo publish`, under `<target dir>/package/`, whatever the target directory is
/// called) or downloaded from a registry. Every package holds the `Cargo.toml.orig`
/// that cargo keeps beside the normalized manifest.
fn verifying_package(manifest_dir: &Path) -> bool {
    let components: Vec<_> = manifest_dir.components().collect();
    components
        .windows(2)
        .any(|w| w[0].as_os_str() == "target" && w[1].as_os_str() == "package")
        || manifest_dir.join("Cargo.toml.orig").is_file()
}

/// Loads the schema model from the manifest's source, with the renames the source knows.
fn load_schema(manifest: &Manifest, cargo: bool) -> Result<(Schema, Vec<crate::spec::Rename>)> {
    match manifest.schema_source() {
        SchemaSource::PgDump(path) => {
            rerun(cargo, path);
            Ok((source::dump::read(path)?, Vec::new()))
        }
        SchemaSource::Snapshot(path) => {
            rerun(cargo, path);
            Ok((source::snapshot::read(path)?, Vec::new()))
        }
        SchemaSource::Ddl(paths) => {
            for path in paths {
                rerun(cargo, path);
            }
            let ddl = source::ddl::read(paths)?;
            Ok((
                ddl.schema,
                ddl.renames.into_iter().map(|r| r.change).collect(),
            ))
        }
        SchemaSource::Live {
            env,
            write_snapshot,
        } => {
            if cargo {
                println!("cargo:rerun-if-env-changed={env}");
            }
            load_live(env, write_snapshot.as_deref(), cargo)
        }
    }
}

#[cfg(feature = "live")]
fn load_live(
    env: &str,
    snapshot: Option<&Path>,
    cargo: bool,
) -> Result<(Schema, Vec<crate::spec::Rename>)> {
    match std::env::var(env) {
        Ok(url) => {
            let schema = source::live::introspect_url(&url)?;
            if let Some(path) = snapshot {
                source::snapshot::write(path, &schema)?;
            }
            Ok((schema, Vec::new()))
        }
        Err(_) => match snapshot {
            Some(path) if path.exists() => {
                rerun(cargo, path);
                Ok((source::snapshot::read(path)?, Vec::new()))
            }
            _ => Err(Error::Database(format!(
                "the manifest reads the schema from the live database named by ${env}, \
                 which is not set; set it, or add `write_snapshot` to [schema] and commit \
                 the snapshot for builds without a database"
            ))),
        },
    }
}

#[cfg(not(feature = "live"))]
fn load_live(
    env: &str,
    snapshot: Option<&Path>,
    cargo: bool,
) -> Result<(Schema, Vec<crate::spec::Rename>)> {
    match snapshot {
        Some(path) if path.exists() => {
            rerun(cargo, path);
            Ok((source::snapshot::read(path)?, Vec::new()))
        }
        _ => Err(Error::Database(format!(
            "the manifest reads the schema from the live database (${env}), but \
             audit-codegen was built without its `live` feature and no snapshot exists"
        ))),
    }
}

fn rerun(cargo: bool, path: &Path) {
    if cargo {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Renders the Rust code into `path` unless the file beside it (`audit.rs.inputs`) shows
/// it was rendered from the same spec by the same build of this crate, and returns the
/// rendering's warnings. A no-op rebuild then costs no rendering (which is the slowest
/// step for large schemas).
fn render_rust_cached(spec: &AuditSpec, path: &Path) -> Result<Vec<String>> {
    let stamp_path = path.with_extension("rs.inputs");
    // The executable's modification time stands for "this build of the generator": a
    // rebuilt build script must render again even when the version did not change.
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .map(|t| format!("{t:?}"))
        .unwrap_or_default();
    let inputs = crate::migrate::lock::fingerprint(&format!(
        "{}\n{exe}\n{spec:?}",
        env!("CARGO_PKG_VERSION")
    ));
    if path.exists()
        && let Ok(stamp) = std::fs::read_to_string(&stamp_path)
        && let Some(rest) = stamp.strip_prefix(&format!("{inputs}\n"))
    {
        return Ok(rest.lines().map(str::to_owned).collect());
    }
    let rust = crate::rust::render(spec)?;
    write_table_files(path, &rust.table_files)?;
    write_if_changed(path, &rust.split_code)?;
    let mut stamp = format!("{inputs}\n");
    for warning in &rust.warnings {
        stamp.push_str(&warning.replace('\n', " "));
        stamp.push('\n');
    }
    write_if_changed(&stamp_path, &stamp)?;
    Ok(rust.warnings)
}

/// Writes the tables' files into the directory beside `path` that its code includes
/// them from, and removes the files of tables no longer generated.
fn write_table_files(path: &Path, files: &[(String, String)]) -> Result<()> {
    let dir = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(crate::rust::TABLE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    for (name, code) in files {
        write_if_changed(&dir.join(name), code)?;
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let stale = name
            .to_str()
            .is_some_and(|n| n.ends_with(".rs") && !files.iter().any(|(file, _)| file == n));
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// Writes `contents` to `path` unless the file already holds exactly that, so unchanged
/// output keeps its modification time and triggers no recompilation.
pub(crate) fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, contents).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::{Error, report, verifying_package};
    use crate::Diagnostic;
    use std::path::Path;

    #[test]
    fn errors_are_reported_line_by_line() {
        let error = Error::Manifest(vec![
            Diagnostic::new(Path::new("audit.toml"), 5, 1, "unknown field `exlude`")
                .with_help("did you mean `exclude`?"),
            Diagnostic::new(Path::new("audit.toml"), 7, 12, "unknown column \"titel\""),
        ]);
        let mut out = Vec::new();
        report(&error, true, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "cargo::error=audit.toml:5:1: unknown field `exlude`\n\
             cargo::error=  help: did you mean `exclude`?\n\
             cargo::error=audit.toml:7:12: unknown column \"titel\"\n"
        );
        let mut out = Vec::new();
        report(&error, false, &mut out).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .starts_with("audit.toml:5:1: unknown")
        );
    }

    #[test]
    fn package_verification_is_recognised() {
        assert!(verifying_package(Path::new(
            "/w/app/target/package/app-0.1.0"
        )));
        assert!(!verifying_package(Path::new("/w/app")));
        assert!(!verifying_package(Path::new("/w/target/app")));
        // Any target directory: a package is known by the manifest cargo keeps.
        let extracted = std::env::temp_dir().join(format!(
            "audit-codegen-verify-{}/package/app-0.1.0",
            std::process::id()
        ));
        std::fs::create_dir_all(&extracted).unwrap();
        assert!(!verifying_package(&extracted.join("..").join("..")));
        std::fs::write(extracted.join("Cargo.toml.orig"), "[package]\n").unwrap();
        assert!(verifying_package(&extracted));
        std::fs::remove_dir_all(extracted.join("..").join("..")).unwrap();
    }
}
