//! The account the server runs as: the current user, or an unprivileged one as root.

use crate::{Error, ErrorKind};
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// An unprivileged account to run PostgreSQL's programs as when we are root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Accounts tried, in order, when running as root.
const CANDIDATES: [&str; 2] = ["postgres", "nobody"];

impl Account {
    /// `None` when not root (the programs run as the current user); as root, the first
    /// of `postgres` and `nobody` that exists.
    pub fn for_server() -> Result<Option<Account>, Error> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(None);
        }
        CANDIDATES
            .iter()
            .find_map(|name| lookup(name))
            .map(Some)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoServerAccount,
                    "PostgreSQL refuses to run as root, and there is neither a `postgres` nor a \
                     `nobody` account to run a private cluster as; create one (e.g. \
                     `useradd --system postgres`) or set DATABASE_URL to a running server",
                )
            })
    }

    /// Makes `command` run as this account (`setgid`, `setuid`; the standard library
    /// also drops the supplementary groups).
    pub fn apply(&self, command: &mut Command) {
        command.uid(self.uid).gid(self.gid);
    }

    /// Makes `path` owned by this account.
    pub fn chown(&self, path: &Path) -> Result<(), Error> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid)).map_err(|e| {
            Error::io(
                format_args!("cannot give {} to {}", path.display(), self.name),
                e,
            )
        })
    }

    /// Whether this account may pass through every directory from the root down to `dir`
    /// (the search permission of its owner, its group or others, whichever applies).
    pub fn can_reach(&self, dir: &Path) -> bool {
        dir.ancestors().all(|ancestor| {
            let Ok(meta) = std::fs::metadata(ancestor) else {
                return false;
            };
            let bit = if meta.uid() == self.uid {
                0o100
            } else if meta.gid() == self.gid {
                0o010
            } else {
                0o001
            };
            meta.mode() & bit != 0
        })
    }
}

/// Looks an account up by name in the password database.
fn lookup(name: &str) -> Option<Account> {
    let c_name = CString::new(name).ok()?;
    // SAFETY: an all-zero passwd is a valid value for getpwnam_r to fill in.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and the buffer's length is right;
    // getpwnam_r is the thread-safe variant.
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut result,
        )
    };
    (rc == 0 && !result.is_null()).then(|| Account {
        name: name.to_owned(),
        uid: entry.pw_uid,
        gid: entry.pw_gid,
    })
}
