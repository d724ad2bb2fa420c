//! The PostgreSQL server that the workspace's tests and examples run against.
//!
//! [`database_url`] answers, in this order:
//!
//! 1. `DATABASE_URL`, when it is set (and not empty);
//! 2. [`DEFAULT_URL`] (`postgres://postgres@127.0.0.1:5432/postgres`), when a server
//!    there accepts a connection;
//! 3. otherwise a private, throw-away cluster started from the PostgreSQL server programs
//!    installed on the machine ([`find_server_bindir`]), under the cargo target directory
//!    (`target/pg-cluster`), listening on a free port of 127.0.0.1, and stopped by itself
//!    once no process uses it any more.
//!
//! Where no server programs are installed, the error says which package to install.
//!
//! # One cluster for all the test processes
//!
//! `cargo test --workspace` runs some twenty test binaries, one after the other or (other
//! runners, several cargo commands) side by side. They share one cluster per target
//! directory instead of starting one each:
//!
//! - `target/pg-cluster/lock` is held exclusively (`flock`) by whoever starts, joins or
//!   stops the cluster, so exactly one process starts it and nobody joins one that is
//!   being stopped;
//! - each process using the cluster holds a shared lock on `target/pg-cluster/users`
//!   for as long as its [`Lease`] lives ([`database_url`] keeps its lease for the life of
//!   the process). The kernel drops the lock when the process ends, however it ends;
//! - the process that starts the cluster also starts a small detached watcher process.
//!   When nobody has held `users` for [`IDLE_TIMEOUT`], the watcher takes `lock`, stops
//!   the server (fast shutdown) and removes its data directory. The idle time lets the
//!   next test binary reuse the running server instead of starting a new one.
//!
//! `initdb` runs once: its result is kept as a template (`target/pg-cluster/server/template`,
//! redone when the server programs change) and copied for every start, which takes well
//! under a second where `initdb` takes two. `cargo clean` removes it with the rest.
//!
//! # Crashing a cluster of one's own
//!
//! A test that must see what a server crash does uses a cluster of its own
//! ([`Cluster::new`] with a directory of its own, never the shared one): [`Lease::crash`]
//! brings the server down without a shutdown checkpoint ([`Crash::Immediate`], as
//! `pg_ctl stop -m immediate`, or [`Crash::Kill`], every server process frozen and then
//! killed), [`Cluster::restart`] starts it again on the same data and port (it runs crash
//! recovery first), and [`Cluster::remove`] stops it and removes all its files at the end.
//! The template turns `fsync` off; such a test turns it back on with `ALTER SYSTEM`,
//! which the data directory keeps across restarts.
//!
//! # Running as root
//!
//! PostgreSQL refuses to run as root. As root (CI machines, containers), `initdb`,
//! `pg_ctl` and the server run as the `postgres` account, or `nobody` where there is none
//! (`setuid` in the child process), and the cluster's files are owned by that account.
//! When that account cannot reach the target directory (a parent directory without search
//! permission for it, such as a home directory), the server's files go to a directory of
//! the system temporary directory instead, named after the target directory.
//!
//! # Why not an existing crate
//!
//! Evaluated, and why none of them is used:
//!
//! - `pgtemp` (0.7) is the closest: it runs `initdb`/`postgres` from `PATH` (or one
//!   given directory) in a temporary directory, one server per value, stopped on drop.
//!   But it does not find the server programs where distributions install them (Debian
//!   keeps them off `PATH`, in `/usr/lib/postgresql/<v>/bin`), runs them through `sudo`
//!   as root (not installed on most CI images or containers), panics on every failure,
//!   and has no way to share one server between processes, nor to stop a server that a
//!   `static` holds (statics are never dropped, so a test binary's server would outlive
//!   it). It also pulls in all of tokio.
//! - `postgresql_embedded` (0.19) downloads PostgreSQL releases by default; with
//!   `trust_installation_dir` it can use an installed `bin` directory, but it runs the
//!   programs as the current user (so not as root), is async-first around sqlx, and has no
//!   sharing between processes either.
//! - `pg-embed` (1.0) always downloads binaries (from Maven), which is impossible here.
//!
//! What this crate needs beyond them (finding installed programs, root, sharing between
//! processes with a clean stop) is most of the work, so it is written here, with the
//! standard library, `libc` (locks, processes, accounts) and `postgres` (the probe).

mod account;
mod bindir;
mod cluster;
mod error;
mod watcher;

pub use bindir::{find_server_bindir, server_bindir_in};
pub use cluster::{Cluster, Crash, IDLE_TIMEOUT, Lease, target_dir};
pub use error::{Error, ErrorKind};

use std::sync::OnceLock;
use std::time::Duration;

/// The server address used when `DATABASE_URL` is not set, if a server answers there.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long the probe of [`DEFAULT_URL`] waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The URL and, for a private cluster, the lease kept for the life of the process.
static RESOLVED: OnceLock<Result<(String, Option<Lease>), Error>> = OnceLock::new();

/// The URL of the PostgreSQL server to use (a role that may create databases, in its
/// `postgres` database): `DATABASE_URL` when set; else [`DEFAULT_URL`] when a server
/// accepts a connection there; else a private cluster under the cargo target directory,
/// started now or joined when another process already started it (see the crate docs).
///
/// The answer is worked out once per process; a private cluster stays in use until the
/// process exits.
///
/// # Errors
///
/// When no server answers and a private cluster cannot be started: most often because
/// the PostgreSQL server programs are not installed ([`ErrorKind::NoServerBinaries`],
/// whose message names the package to install).
pub fn database_url() -> Result<String, Error> {
    if let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        return Ok(url);
    }
    RESOLVED
        .get_or_init(resolve_default)
        .as_ref()
        .map(|(url, _)| url.clone())
        .map_err(Clone::clone)
}

/// The default address when a server answers there, else a private cluster.
fn resolve_default() -> Result<(String, Option<Lease>), Error> {
    let refused = match probe(DEFAULT_URL) {
        Ok(()) => return Ok((DEFAULT_URL.to_owned(), None)),
        Err(reason) => reason,
    };
    let cluster = Cluster::shared();
    let lease = cluster.start().map_err(|e| {
        e.context(format!(
            "no PostgreSQL server answers at {DEFAULT_URL} ({refused}) and DATABASE_URL is not set"
        ))
    })?;
    eprintln!(
        "note: no PostgreSQL server at {DEFAULT_URL} ({refused}); using a private cluster at {} \
         (files under {})",
        lease.url(),
        cluster.dir().display()
    );
    Ok((lease.url().to_owned(), Some(lease)))
}

/// Whether a server accepts a connection at `url`; `Err` says why not.
fn probe(url: &str) -> Result<(), String> {
    let mut config: postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    config.connect_timeout(PROBE_TIMEOUT);
    config.connect(postgres::NoTls).map(drop).map_err(|e| {
        match (e.as_db_error(), std::error::Error::source(&e)) {
            (Some(db), _) => db.message().to_owned(),
            (None, Some(cause)) => format!("{e}: {cause}"),
            (None, None) => e.to_string(),
        }
    })
}
