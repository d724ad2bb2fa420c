//! Versioned migrations: what to write into the user's migrations directory.
//!
//! The flow: [`plan`](plan::plan) compares the wanted state with the committed
//! [`Lock`] and the directory's listing; [`apply`] writes the planned files
//! (never touching a file that exists) and the new lock, or in check mode reports what
//! would change instead.

pub mod history;
pub mod lock;
pub mod naming;
pub mod plan;

use crate::error::{Error, Result};
use std::path::Path;

pub use lock::Lock;
pub use naming::MigrationFormat;
pub use plan::{Plan, PlannedMigration};

/// The names of the entries of the migrations directory (empty when it does not exist).
pub fn list_directory(dir: &Path) -> Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(dir, e))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            Ok(names)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Generated migrations in `dir` that `lock` does not record (relative paths, sorted).
///
/// They mean the lock file was lost or reverted: planning from it would emit the same
/// migrations again under new versions, so generation refuses instead.
pub fn unrecorded_migrations(dir: &Path, lock: &Lock) -> Result<Vec<String>> {
    let recorded: std::collections::BTreeSet<String> = lock
        .migrations
        .iter()
        .flat_map(|m| {
            [
                m.path.clone(),
                m.path.replace(".up.sql", ".down.sql"),
                m.path.replace("/up.sql", "/down.sql"),
            ]
        })
        .collect();
    let mut unrecorded = Vec::new();
    for entry in list_directory(dir)? {
        let path = dir.join(&entry);
        let candidates = if path.is_dir() {
            vec![format!("{entry}/up.sql"), format!("{entry}/down.sql")]
        } else {
            vec![entry]
        };
        for relative in candidates {
            let generated = std::fs::read_to_string(dir.join(&relative))
                .is_ok_and(|text| text.starts_with(plan::HEADER));
            if generated && !recorded.contains(&relative) {
                unrecorded.push(relative);
            }
        }
    }
    Ok(unrecorded)
}

/// Writes the planned migrations into `dir` and the new lock to `lock_path`.
///
/// Nothing is written when the plan is empty and the lock is unchanged, so a no-op run
/// leaves every file (and its modification time) alone. A planned file that already exists
/// is an error: emitted migrations are never rewritten.
pub fn apply(plan: &Plan, dir: &Path, lock_path: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for migration in &plan.migrations {
        for (relative, contents) in &migration.files {
            let path = dir.join(relative);
            if path.exists() {
                return Err(Error::Generate(format!(
                    "{} already exists; emitted migrations are never rewritten (is the lock \
                     file {} out of date?)",
                    path.display(),
                    lock_path.display()
                )));
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(&path, contents).map_err(|e| Error::io(&path, e))?;
            written.push(path);
        }
    }
    let lock_text = plan.lock.to_json();
    let current = std::fs::read_to_string(lock_path).ok();
    if current.as_deref() != Some(lock_text.as_str()) {
        std::fs::write(lock_path, lock_text).map_err(|e| Error::io(lock_path, e))?;
        written.push(lock_path.to_path_buf());
    }
    Ok(written)
}

/// Check mode: an error listing every pending change when the plan is not empty (or the
/// lock file is stale), `Ok` when everything is up to date.
pub fn check(plan: &Plan, lock_path: &Path) -> Result<()> {
    let mut pending = plan.pending_changes();
    let current = std::fs::read_to_string(lock_path).ok();
    if pending.is_empty() && current.as_deref() != Some(plan.lock.to_json().as_str()) {
        pending.push(format!("{}: lock file is out of date", lock_path.display()));
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(Error::OutOfDate(pending))
    }
}
