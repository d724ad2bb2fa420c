//! Finding the PostgreSQL server programs installed on the machine.

use crate::{Error, ErrorKind};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The programs a private cluster needs.
const PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// The directory holding PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`),
/// looked for in `pg_config --bindir`, then every directory of `PATH`, then where
/// distributions and installers put them: `/usr/lib/postgresql/<version>/bin` (Debian,
/// Ubuntu), `/usr/pgsql-<version>/bin` (PGDG packages for Fedora/RHEL),
/// `/usr/local/pgsql/bin` (built from source), Homebrew's
/// `/opt/homebrew/opt/postgresql@<version>/bin` and `/usr/local/opt/…`, MacPorts,
/// Postgres.app, `/usr/local/bin` and `/usr/bin`. The newest version wins among
/// versioned directories.
///
/// # Errors
///
/// [`ErrorKind::NoServerBinaries`] when none has all three programs; its message lists
/// where it looked and which package to install.
pub fn find_server_bindir() -> Result<PathBuf, Error> {
    server_bindir_in(&candidates())
}

/// The first of `dirs` that holds PostgreSQL's server programs.
///
/// # Errors
///
/// [`ErrorKind::NoServerBinaries`] when none does; the message lists `dirs` and which
/// package to install.
pub fn server_bindir_in(dirs: &[PathBuf]) -> Result<PathBuf, Error> {
    dirs.iter()
        .find(|dir| has_server_programs(dir))
        .cloned()
        .ok_or_else(|| no_server_binaries(dirs))
}

/// Whether `dir` has every program of [`PROGRAMS`], executable.
fn has_server_programs(dir: &Path) -> bool {
    PROGRAMS.iter().all(|program| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

fn no_server_binaries(searched: &[PathBuf]) -> Error {
    let mut seen = Vec::new();
    for dir in searched {
        if !seen.contains(dir) {
            seen.push(dir.clone());
        }
    }
    let searched: Vec<String> = seen.iter().map(|d| d.display().to_string()).collect();
    Error::new(
        ErrorKind::NoServerBinaries,
        format!(
            "the PostgreSQL server programs (initdb, pg_ctl, postgres) to start a private \
             cluster are not installed (looked in pg_config --bindir, PATH and the usual \
             install directories: {}).\n\
             Install the PostgreSQL server package, for example:\n  \
             Debian/Ubuntu: apt-get install postgresql\n  \
             Fedora/RHEL:   dnf install postgresql-server\n  \
             macOS:         brew install postgresql@16\n\
             or set DATABASE_URL to a running server, e.g. \
             DATABASE_URL=postgres://user@host:5432/postgres",
            if searched.is_empty() {
                "none".to_owned()
            } else {
                searched.join(", ")
            }
        ),
    )
}

/// Every directory worth looking in, in order of preference.
fn candidates() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = pg_config_bindir() {
        dirs.push(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path).filter(|d| d.is_absolute()));
    }
    dirs.extend(versioned("/usr/lib/postgresql", "", "bin"));
    dirs.extend(versioned("/usr", "pgsql-", "bin"));
    dirs.push("/usr/local/pgsql/bin".into());
    for prefix in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(versioned(prefix, "postgresql@", "bin"));
        dirs.push(Path::new(prefix).join("postgresql/bin"));
    }
    dirs.extend(versioned("/opt/local/lib", "postgresql", "bin"));
    dirs.extend(versioned(
        "/Applications/Postgres.app/Contents/Versions",
        "",
        "bin",
    ));
    dirs.extend(["/usr/local/bin", "/usr/bin"].map(PathBuf::from));
    let mut unique = Vec::new();
    for dir in dirs {
        if !unique.contains(&dir) {
            unique.push(dir);
        }
    }
    unique
}

/// `pg_config --bindir`, when `pg_config` is on `PATH`.
fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = dir.trim();
    (output.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// `<parent>/<prefix><version>/<sub>` for each such directory, newest version first
/// (`prefix` `postgresql@` finds `postgresql@16`, `postgresql@15`, …).
fn versioned(parent: &str, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = version_of(name.strip_prefix(prefix)?)?;
            Some((version, entry.path().join(sub)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, dir)| dir).collect()
}

/// `16.2` → `[16, 2]`; `None` unless it starts with a digit.
fn version_of(text: &str) -> Option<Vec<u32>> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .filter_map(|part| part.parse().ok())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(version_of("16.2"), Some(vec![16, 2]));
        assert_eq!(version_of("9.6"), Some(vec![9, 6]));
        assert_eq!(version_of("main"), None);
        assert!(version_of("16").unwrap() > version_of("9.6").unwrap());
    }

    #[test]
    fn missing_programs_name_the_package_to_install() {
        let error = server_bindir_in(&[PathBuf::from("/nonexistent/bin")]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NoServerBinaries);
        let message = error.to_string();
        for expected in [
            "/nonexistent/bin",
            "apt-get install postgresql",
            "dnf install postgresql-server",
            "brew install postgresql@16",
            "DATABASE_URL",
        ] {
            assert!(
                message.contains(expected),
                "{expected} missing in: {message}"
            );
        }
    }
}
