//! A private cluster in a directory, started by the first process that needs it and
//! shared by every process that uses the same directory (see the crate docs).

use crate::account::Account;
use crate::bindir::{find_server_bindir, server_bindir_in};
use crate::watcher::{self, Watch};
use crate::{Error, ErrorKind};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a shared cluster keeps running after its last user has gone: long enough
/// for the next test binary of a `cargo test` run to find it running.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for another process that starts or stops the cluster.
const LOCK_WAIT: Duration = Duration::from_secs(300);

/// Settings appended to the template's `postgresql.conf`: TCP on the loopback address
/// only (the port is given at start), no Unix socket (its path length is limited and
/// its directory would have to be writable by the server's account), and no waiting for
/// the disk, which a throw-away cluster does not need.
const CONFIG: &str = "
# pg-cluster: a private, throw-away cluster for tests and examples.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
full_page_writes = off
";

/// Locales tried for `initdb`, in order (`C.UTF-8` does not exist everywhere).
const LOCALES: [&str; 2] = ["C.UTF-8", "C"];

/// The cargo target directory of the running program: the nearest directory above the
/// executable that holds cargo's `CACHEDIR.TAG` (so `CARGO_TARGET_DIR` or a configured
/// target directory are followed), else `CARGO_TARGET_DIR` when absolute, else the
/// workspace's `target/`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .skip(1)
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
            .map(Path::to_path_buf)
    }) {
        return dir;
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
    {
        return dir;
    }
    // This crate is <workspace>/tests/pg-cluster.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .join("target")
}

/// A private PostgreSQL cluster kept in one directory and shared by every process that
/// starts it from that directory.
#[derive(Debug, Clone)]
pub struct Cluster {
    dir: PathBuf,
    idle_timeout: Duration,
    bindirs: Option<Vec<PathBuf>>,
}

/// The use of a running cluster: while a lease exists, the cluster keeps running.
/// Dropping the last lease (or ending the last process that holds one) lets the cluster
/// stop after its idle timeout.
#[derive(Debug)]
pub struct Lease {
    url: String,
    port: u16,
    server_pid: u32,
    /// Holds the shared lock on the users file.
    _users: File,
}

impl Lease {
    /// The URL of the server's `postgres` database as the superuser `postgres`
    /// (`postgres://postgres@127.0.0.1:<port>/postgres`; trust authentication).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of the server (its postmaster).
    pub fn server_pid(&self) -> u32 {
        self.server_pid
    }
}

/// How [`Lease::crash`] brings a server down: either way without a shutdown checkpoint,
/// so that the next start ([`Cluster::restart`]) recovers from the write-ahead log, as
/// after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// What `pg_ctl stop -m immediate` does: the postmaster gets `SIGQUIT` and ends every
    /// server process at once.
    Immediate,
    /// Every server process is stopped (`SIGSTOP`) for the given time, while the
    /// clients' messages pile up unanswered, then killed (`SIGKILL`): a server that hangs
    /// and then is gone. (The operating system keeps what the server had written, as
    /// after any crash of its processes.) Needs Linux's `/proc` to find the processes.
    Kill(Duration),
}

impl Lease {
    /// Brings the server down the way `how` says and returns once none of its processes
    /// is left. For a cluster of one's own ([`Cluster::new`]): every user of the server
    /// loses its connections. [`Cluster::restart`] starts it again on the same data.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Stop`] when the server does not run, when its processes do not end
    /// in time, or when [`Crash::Kill`] cannot find them (no `/proc`).
    pub fn crash(&self, how: Crash) -> Result<(), Error> {
        let pid = libc::pid_t::try_from(self.server_pid).unwrap_or(0);
        if !process_exists(pid) {
            return Err(Error::new(
                ErrorKind::Stop,
                format!("the server (pid {pid}) does not run"),
            ));
        }
        let mut processes = vec![pid];
        match how {
            Crash::Immediate => signal(pid, libc::SIGQUIT),
            Crash::Kill(frozen) => {
                if proc_stat(std::process::id() as libc::pid_t).is_none() {
                    return Err(Error::new(
                        ErrorKind::Stop,
                        "cannot find the server's processes: there is no /proc",
                    ));
                }
                // The postmaster first, so that it starts no new process; then what it
                // started.
                signal(pid, libc::SIGSTOP);
                wait_for(Duration::from_secs(10), || {
                    proc_stat(pid).is_none_or(|(state, _)| matches!(state, 'T' | 't' | 'Z' | 'X'))
                });
                processes.extend(children_of(pid));
                for &child in &processes[1..] {
                    signal(child, libc::SIGSTOP);
                }
                std::thread::sleep(frozen);
                for &process in &processes {
                    signal(process, libc::SIGKILL);
                }
            }
        }
        if wait_for(Duration::from_secs(60), || {
            !processes.iter().any(|&p| process_exists(p))
        }) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Stop,
                format!("the server's processes {processes:?} still run a minute after {how:?}"),
            ))
        }
    }
}

/// A running postmaster, as its `postmaster.pid` describes it.
#[derive(Debug, Clone, Copy)]
struct Postmaster {
    pid: libc::pid_t,
    port: u16,
    ready: bool,
}

impl Cluster {
    /// The cluster kept in `dir` (created when needed), with the default idle timeout,
    /// using the server programs [`find_server_bindir`] finds.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            idle_timeout: IDLE_TIMEOUT,
            bindirs: None,
        }
    }

    /// The cluster of the running program's cargo target directory:
    /// `<target>/pg-cluster` (see [`target_dir`]).
    pub fn shared() -> Self {
        Self::new(target_dir().join("pg-cluster"))
    }

    /// How long the server keeps running after its last lease is gone, when this value
    /// starts it (default [`IDLE_TIMEOUT`]).
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Looks for the server programs only in `dirs`, instead of everywhere
    /// [`find_server_bindir`] looks.
    pub fn search_only(mut self, dirs: Vec<PathBuf>) -> Self {
        self.bindirs = Some(dirs);
        self
    }

    /// The directory the cluster is kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Joins the running server, or starts it when none runs, and returns a lease on it.
    ///
    /// # Errors
    ///
    /// When there are no server programs ([`ErrorKind::NoServerBinaries`]), no account
    /// to run them as root, or the files or the server cannot be set up; each message
    /// says what failed, with the output of the program that failed.
    pub fn start(&self) -> Result<Lease, Error> {
        let bindir = self.bindir()?;
        let account = Account::for_server()?;
        fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io(format_args!("cannot create {}", self.dir.display()), e))?;
        let dir = fs::canonicalize(&self.dir)
            .map_err(|e| Error::io(format_args!("cannot resolve {}", self.dir.display()), e))?;

        let lock_path = dir.join("lock");
        let lock = open_lock_file(&lock_path)?;
        lock_exclusive(&lock, &lock_path)?;

        let server_dir = server_dir(&dir, account.as_ref())?;
        let data = server_dir.join("data");
        let users_path = dir.join("users");
        let running = postmaster(&data).filter(|pm| pm.ready);
        let postmaster = match running {
            Some(pm) if reachable(pm.port) => {
                self.ensure_watcher(&dir, &data, pm)?;
                pm
            }
            Some(pm) => {
                if in_use(&users_path)? {
                    return Err(Error::new(
                        ErrorKind::Start,
                        format!(
                            "the private PostgreSQL cluster in {} runs (pid {}, port {}) but \
                             cannot be reached from here (another network namespace?)",
                            data.display(),
                            pm.pid,
                            pm.port
                        ),
                    ));
                }
                self.launch(&dir, &bindir, account.as_ref(), &server_dir)?
            }
            None => self.launch(&dir, &bindir, account.as_ref(), &server_dir)?,
        };

        // Joined before the cluster's lock is released, so that the watcher cannot stop
        // the server in between.
        let users = open_lock_file(&users_path)?;
        flock(&users, libc::LOCK_SH)
            .map_err(|e| Error::io(format_args!("cannot lock {}", users_path.display()), e))?;
        drop(lock);
        Ok(Lease {
            url: format!("postgres://postgres@127.0.0.1:{}/postgres", postmaster.port),
            port: postmaster.port,
            server_pid: postmaster.pid.unsigned_abs(),
            _users: users,
        })
    }

    /// Starts a new server from a fresh copy of the template, and its watcher.
    fn launch(
        &self,
        dir: &Path,
        bindir: &Path,
        account: Option<&Account>,
        server_dir: &Path,
    ) -> Result<Postmaster, Error> {
        let data = server_dir.join("data");
        discard_data(&data)?;
        let template = template(bindir, account, server_dir)?;
        copy_tree(&template, &data, account)
            .map_err(|e| Error::io(format_args!("cannot copy {}", template.display()), e))?;
        let postmaster = start_server(bindir, account, server_dir, &data, None)?;
        if let Err(error) = self.spawn_watcher(dir, &data, postmaster) {
            stop_postmaster(postmaster.pid, &data);
            let _ = fs::remove_dir_all(&data);
            return Err(error);
        }
        Ok(postmaster)
    }

    /// Starts the server of `lease` again after it went down ([`Lease::crash`]), on the
    /// data directory as the crash left it, and returns a lease on the new server. The
    /// server runs crash recovery from its write-ahead log before it accepts connections;
    /// it listens on the same port as before, so that clients reconnect to the same URL.
    /// The settings made with `ALTER SYSTEM` are kept.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Start`] when the server still runs, when there is no data directory
    /// to start from, or when the server does not start (the message has the end of its
    /// log); the errors of [`Cluster::start`] otherwise.
    pub fn restart(&self, lease: Lease) -> Result<Lease, Error> {
        let bindir = self.bindir()?;
        let account = Account::for_server()?;
        let dir = fs::canonicalize(&self.dir)
            .map_err(|e| Error::io(format_args!("cannot resolve {}", self.dir.display()), e))?;
        let lock_path = dir.join("lock");
        let lock = open_lock_file(&lock_path)?;
        lock_exclusive(&lock, &lock_path)?;
        let server_dir = server_dir(&dir, account.as_ref())?;
        let data = server_dir.join("data");
        if let Some(pm) = postmaster(&data) {
            return Err(Error::new(
                ErrorKind::Start,
                format!(
                    "the private PostgreSQL cluster in {} still runs (pid {}): it can only be \
                     restarted after it went down",
                    data.display(),
                    pm.pid
                ),
            ));
        }
        if !data.join("PG_VERSION").is_file() {
            return Err(Error::new(
                ErrorKind::Start,
                format!(
                    "there is no data directory to restart the private PostgreSQL cluster \
                     from in {}",
                    data.display()
                ),
            ));
        }
        // A server killed with SIGKILL leaves its lock file behind, naming a process that
        // may linger unreaped for a while: the new server would take it for a running one.
        let pid_file = data.join("postmaster.pid");
        match fs::remove_file(&pid_file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(Error::io(
                    format_args!("cannot remove {}", pid_file.display()),
                    e,
                ));
            }
            _ => {}
        }
        let postmaster = start_server(
            &bindir,
            account.as_ref(),
            &server_dir,
            &data,
            Some(lease.port),
        )?;
        // The watcher of the server that went down ends by itself.
        if let Err(error) = self.spawn_watcher(&dir, &data, postmaster) {
            stop_postmaster(postmaster.pid, &data);
            return Err(error);
        }
        let users_path = dir.join("users");
        let users = open_lock_file(&users_path)?;
        flock(&users, libc::LOCK_SH)
            .map_err(|e| Error::io(format_args!("cannot lock {}", users_path.display()), e))?;
        drop(lock);
        drop(lease);
        Ok(Lease {
            url: format!("postgres://postgres@127.0.0.1:{}/postgres", postmaster.port),
            port: postmaster.port,
            server_pid: postmaster.pid.unsigned_abs(),
            _users: users,
        })
    }

    /// Brings the server down at once if it runs (as [`Crash::Immediate`] does) and
    /// removes every file of the cluster: its directory and, where the server's files
    /// are kept elsewhere (see the crate docs on running as root), those too. Meant for a
    /// cluster of one's own at the end of its use: the leases still held on it are left
    /// without a server. Nothing to remove is not an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when a file cannot be removed; [`ErrorKind::NoServerAccount`]
    /// as for [`Cluster::start`].
    pub fn remove(&self) -> Result<(), Error> {
        let Ok(dir) = fs::canonicalize(&self.dir) else {
            return Ok(());
        };
        let account = Account::for_server()?;
        let lock_path = dir.join("lock");
        let lock = open_lock_file(&lock_path)?;
        lock_exclusive(&lock, &lock_path)?;
        let server_dir = server_dir(&dir, account.as_ref())?;
        let data = server_dir.join("data");
        if let Some(pm) = postmaster(&data) {
            stop_postmaster_with(
                pm.pid,
                &data,
                &[
                    (libc::SIGQUIT, Duration::from_secs(30)),
                    (libc::SIGKILL, Duration::from_secs(5)),
                ],
            );
        }
        remove_dir_if_exists(&server_dir)?;
        remove_dir_if_exists(&dir)?;
        drop(lock);
        Ok(())
    }

    /// The directory of the server programs to use.
    fn bindir(&self) -> Result<PathBuf, Error> {
        match &self.bindirs {
            Some(dirs) => server_bindir_in(dirs),
            None => find_server_bindir(),
        }
    }

    /// Starts a watcher for a running server unless one runs.
    fn ensure_watcher(&self, dir: &Path, data: &Path, pm: Postmaster) -> Result<(), Error> {
        let running = fs::read_to_string(dir.join("watcher.pid"))
            .ok()
            .and_then(|text| text.trim().parse::<libc::pid_t>().ok())
            .is_some_and(process_exists);
        if running {
            Ok(())
        } else {
            self.spawn_watcher(dir, data, pm)
        }
    }

    fn spawn_watcher(&self, dir: &Path, data: &Path, pm: Postmaster) -> Result<(), Error> {
        let pid_file = dir.join("watcher.pid");
        let pid = watcher::spawn(&Watch {
            lock: dir.join("lock"),
            users: dir.join("users"),
            data: data.to_path_buf(),
            pid_file: pid_file.clone(),
            postmaster: pm.pid,
            idle: self.idle_timeout,
        })
        .map_err(|e| Error::io("cannot start the cluster's watcher process", e))?;
        fs::write(&pid_file, format!("{pid}\n"))
            .map_err(|e| Error::io(format_args!("cannot write {}", pid_file.display()), e))
    }
}

/// The directory of the server's files (template, data, log), owned by `account`:
/// `<dir>/server`, or, when `account` cannot reach `dir`, a directory of the system
/// temporary directory named after `dir`.
fn server_dir(dir: &Path, account: Option<&Account>) -> Result<PathBuf, Error> {
    let server_dir = match account {
        Some(account) if !account.can_reach(dir) => std::env::temp_dir().join(format!(
            "pg-cluster-{}-{:016x}",
            account.name,
            fnv1a(dir.as_os_str().as_bytes())
        )),
        _ => dir.join("server"),
    };
    match fs::symlink_metadata(&server_dir) {
        Ok(meta) => {
            let owner_ok = account.is_none_or(|a| meta.uid() == a.uid || meta.uid() == 0);
            if !meta.is_dir() || !owner_ok {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "{} is not a directory of this cluster (a symbolic link, a file, or \
                         owned by someone else); remove it",
                        server_dir.display()
                    ),
                ));
            }
        }
        Err(_) => fs::create_dir_all(&server_dir)
            .map_err(|e| Error::io(format_args!("cannot create {}", server_dir.display()), e))?,
    }
    if let Some(account) = account {
        account.chown(&server_dir)?;
    }
    Ok(server_dir)
}

/// The template cluster, made by `initdb` when missing or made by other programs.
fn template(bindir: &Path, account: Option<&Account>, server_dir: &Path) -> Result<PathBuf, Error> {
    let template = server_dir.join("template");
    let stamp_path = server_dir.join("template.stamp");
    let version = run(Command::new(bindir.join("postgres")).arg("--version"))
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    let stamp = format!("{}\n{version}\n{CONFIG}", bindir.display());
    if template.join("PG_VERSION").is_file()
        && fs::read_to_string(&stamp_path).is_ok_and(|text| text == stamp)
    {
        return Ok(template);
    }
    let _ = fs::remove_file(&stamp_path);
    let mut failure = String::new();
    for locale in LOCALES {
        remove_dir_if_exists(&template)?;
        make_dir(&template, account)?;
        let mut initdb = Command::new(bindir.join("initdb"));
        initdb
            .arg("--pgdata")
            .arg(&template)
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            .arg(format!("--locale={locale}"))
            .arg("--no-sync")
            .current_dir(server_dir);
        if let Some(account) = account {
            account.apply(&mut initdb);
        }
        match run(&mut initdb) {
            Ok(_) => {
                append(&template.join("postgresql.conf"), CONFIG)?;
                fs::write(&stamp_path, &stamp).map_err(|e| {
                    Error::io(format_args!("cannot write {}", stamp_path.display()), e)
                })?;
                return Ok(template);
            }
            Err(output) => failure = output,
        }
    }
    let _ = remove_dir_if_exists(&template);
    Err(Error::new(
        ErrorKind::InitDb,
        format!(
            "initdb ({}) failed to create a cluster in {}:\n{failure}",
            bindir.join("initdb").display(),
            template.display()
        ),
    ))
}

/// Starts the server on `fixed_port`, or else a free port, with `pg_ctl`, waiting until it
/// accepts connections.
fn start_server(
    bindir: &Path,
    account: Option<&Account>,
    server_dir: &Path,
    data: &Path,
    fixed_port: Option<u16>,
) -> Result<Postmaster, Error> {
    let log = server_dir.join("server.log");
    let mut failure = String::new();
    // Another program may take the free port before the server binds it: try again
    // (unless the port is given).
    for _ in 0..5 {
        let port = match fixed_port {
            Some(port) => port,
            None => free_port()?,
        };
        fs::write(&log, "")
            .map_err(|e| Error::io(format_args!("cannot write {}", log.display()), e))?;
        if let Some(account) = account {
            account.chown(&log)?;
        }
        let mut pg_ctl = Command::new(bindir.join("pg_ctl"));
        pg_ctl
            .arg("start")
            .arg("--pgdata")
            .arg(data)
            .arg("--log")
            .arg(&log)
            .arg(format!("--options=-p {port}"))
            .args(["--wait", "--timeout=60", "--silent"])
            .current_dir(server_dir);
        if let Some(account) = account {
            account.apply(&mut pg_ctl);
        }
        let result = run(&mut pg_ctl);
        match (result, postmaster(data)) {
            (Ok(_), Some(pm)) if pm.ready && pm.port == port => return Ok(pm),
            (result, pm) => {
                if let Some(pm) = pm {
                    stop_postmaster(pm.pid, data);
                }
                let log_text = fs::read_to_string(&log).unwrap_or_default();
                failure = format!(
                    "{}\nserver log ({}):\n{}",
                    result
                        .err()
                        .unwrap_or_else(|| "pg_ctl reported success".into()),
                    log.display(),
                    tail(&log_text, 20)
                );
                if fixed_port.is_some() || !log_text.contains("could not bind") {
                    break;
                }
            }
        }
    }
    Err(Error::new(
        ErrorKind::Start,
        format!(
            "the private PostgreSQL cluster in {} did not start: {failure}",
            data.display()
        ),
    ))
}

/// Removes a data directory left by an earlier server, stopping that server first if it
/// still runs (it does not answer, or it would have been joined).
fn discard_data(data: &Path) -> Result<(), Error> {
    if let Some(pm) = postmaster(data) {
        stop_postmaster(pm.pid, data);
    }
    remove_dir_if_exists(data)
}

/// The postmaster running in `data`, if any.
fn postmaster(data: &Path) -> Option<Postmaster> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: libc::pid_t = lines.first()?.trim().parse().ok()?;
    let port: u16 = lines.get(3)?.trim().parse().ok()?;
    let ready = lines.get(7).is_some_and(|status| status.trim() == "ready");
    process_exists(pid).then_some(Postmaster { pid, port, ready })
}

/// Stops the postmaster `pid` of `data`: fast shutdown, then immediate, then SIGKILL.
fn stop_postmaster(pid: libc::pid_t, data: &Path) {
    stop_postmaster_with(
        pid,
        data,
        &[
            (libc::SIGINT, Duration::from_secs(60)),
            (libc::SIGQUIT, Duration::from_secs(5)),
            (libc::SIGKILL, Duration::from_secs(5)),
        ],
    );
}

/// Stops the postmaster `pid` of `data` with each signal in turn, waiting for it to go
/// as long as given.
fn stop_postmaster_with(pid: libc::pid_t, data: &Path, steps: &[(libc::c_int, Duration)]) {
    for &(signal, wait) in steps {
        self::signal(pid, signal);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if postmaster(data).is_none_or(|pm| pm.pid != pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Whether a process `pid` exists (possibly under another user) and has not ended (an
/// ended process that its parent has not reaped yet is not counted, where `/proc` shows
/// it).
fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
        && !proc_stat(pid).is_some_and(|(state, _)| matches!(state, 'Z' | 'X'))
}

/// Sends `signal` to process `pid`.
fn signal(pid: libc::pid_t, signal: libc::c_int) {
    if pid > 0 {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, signal) };
    }
}

/// The state letter and the parent of process `pid`, from Linux's `/proc/<pid>/stat`.
fn proc_stat(pid: libc::pid_t) -> Option<(char, libc::pid_t)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (name) state ppid …`, where the name may hold spaces and parentheses.
    let mut fields = text[text.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

/// The processes whose parent is `pid`, from Linux's `/proc`.
fn children_of(pid: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|&child| proc_stat(child).is_some_and(|(_, parent)| parent == pid))
        .collect()
}

/// Polls `done` until it holds (true) or `timeout` has passed (false).
fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a server accepts TCP connections on 127.0.0.1:`port`.
fn reachable(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok()
}

/// A TCP port of 127.0.0.1 that nothing listens on right now.
fn free_port() -> Result<u16, Error> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Error::io("cannot find a free TCP port on 127.0.0.1", e))
}

/// Whether some process holds a (shared) lock on the users file.
fn in_use(users: &Path) -> Result<bool, Error> {
    let file = open_lock_file(users)?;
    match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(true),
        Err(e) => Err(Error::io(
            format_args!("cannot lock {}", users.display()),
            e,
        )),
    }
}

fn open_lock_file(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(format_args!("cannot open {}", path.display()), e))
}

/// Takes the exclusive lock of `file`, waiting up to [`LOCK_WAIT`].
fn lock_exclusive(file: &File, path: &Path) -> Result<(), Error> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match flock(file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "another process has held {} for {} s while starting or stopping the \
                         private cluster; is it stuck?",
                        path.display(),
                        LOCK_WAIT.as_secs()
                    ),
                ));
            }
            Err(e) => return Err(Error::io(format_args!("cannot lock {}", path.display()), e)),
        }
    }
}

fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: the descriptor is valid for the life of `file`.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Runs `command` without input; `Err` holds a description of the failure with its output.
fn run(command: &mut Command) -> Result<Output, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    match command.stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => Ok(output),
        Ok(output) => Err(format!(
            "{program} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )),
        Err(e) => Err(format!("cannot run {program}: {e}")),
    }
}

fn make_dir(path: &Path, account: Option<&Account>) -> Result<(), Error> {
    fs::create_dir_all(path)
        .map_err(|e| Error::io(format_args!("cannot create {}", path.display()), e))?;
    match account {
        Some(account) => account.chown(path),
        None => Ok(()),
    }
}

fn remove_dir_if_exists(path: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(
            format_args!("cannot remove {}", path.display()),
            e,
        )),
        _ => Ok(()),
    }
}

fn append(path: &Path, text: &str) -> Result<(), Error> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| Error::io(format_args!("cannot append to {}", path.display()), e))
}

/// Copies the directory tree `from` to `to` (which must not exist) with the same
/// permissions, owned by `account` when given.
fn copy_tree(from: &Path, to: &Path, account: Option<&Account>) -> io::Result<()> {
    fs::create_dir(to)?;
    fs::set_permissions(to, fs::metadata(from)?.permissions())?;
    chown(to, account)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &target, account)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
            chown(&target, account)?;
        } else {
            fs::copy(&source, &target)?;
            fs::set_permissions(
                &target,
                fs::Permissions::from_mode(entry.metadata()?.mode()),
            )?;
            chown(&target, account)?;
        }
    }
    Ok(())
}

fn chown(path: &Path, account: Option<&Account>) -> io::Result<()> {
    match account {
        Some(account) => std::os::unix::fs::lchown(path, Some(account.uid), Some(account.gid)),
        None => Ok(()),
    }
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// FNV-1a: a stable short name for a path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_dir_holds_cargos_tag() {
        assert!(target_dir().join("CACHEDIR.TAG").is_file());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
