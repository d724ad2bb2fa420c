//! The private cluster itself, each test in a directory of its own under cargo's
//! temporary directory (its own server on a free port; the server at the default address
//! is never touched): start, connect, share between leases and between processes, stop
//! when the last user has gone and leave nothing behind; replace a server that died;
//! crash a server and restart it on its data; and say which package to install when
//! there are no server programs.
//!
//! Tests that need the server programs say so and pass when they are not installed.

use pg_cluster::{Cluster, Crash, ErrorKind, find_server_bindir};
use postgres::{Client, NoTls};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Idle timeout of the test clusters: short, so that the tests see them stop.
const IDLE: Duration = Duration::from_millis(300);

/// An empty directory for one test's cluster.
fn scratch(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pg-cluster-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Whether the server programs are installed; tells why a test does nothing otherwise.
fn have_server_programs() -> bool {
    match find_server_bindir() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped, no server programs: {e}");
            false
        }
    }
}

fn process_exists(pid: u32) -> bool {
    let pid = pid as libc::pid_t;
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Whether process `pid` is gone, or goes within a few seconds (its parent, init, reaps
/// it as it exits).
fn gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    !process_exists(pid)
}

fn answers(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Waits until the cluster in `dir` (server `pid` on `port`) has stopped and removed its
/// data directory and watcher, then removes `dir`.
fn assert_goes_away(dir: &Path, pid: u32, port: u16) {
    let data = dir.join("server/data");
    let deadline = Instant::now() + Duration::from_secs(30);
    while answers(port) || data.exists() || dir.join("watcher.pid").exists() {
        assert!(
            Instant::now() < deadline,
            "the cluster in {} still runs (port {port} answers: {}, data left: {})",
            dir.display(),
            answers(port),
            data.exists()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The postmaster's parent is init, which reaps it as it exits.
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!process_exists(pid), "server process {pid} is still there");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_private_cluster_starts_serves_and_goes_away() {
    if !have_server_programs() {
        return;
    }
    let dir = scratch("lifecycle");
    let cluster = Cluster::new(&dir).idle_timeout(IDLE);

    let started = Instant::now();
    let lease = cluster.start().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("private cluster started in {:.2?}", started.elapsed());
    assert_ne!(lease.port(), 5432);
    assert_eq!(
        lease.url(),
        format!("postgres://postgres@127.0.0.1:{}/postgres", lease.port())
    );
    let mut client = Client::connect(lease.url(), NoTls).unwrap();
    client
        .batch_execute("CREATE DATABASE pg_cluster_check")
        .unwrap();
    let fsync: String = client.query_one("SHOW fsync", &[]).unwrap().get(0);
    assert_eq!(fsync, "off");
    drop(client);

    // A second lease joins the running server, and keeps it running after the first
    // is gone, longer than the idle timeout.
    let started = Instant::now();
    let second = cluster.start().unwrap();
    eprintln!("joined the running cluster in {:.2?}", started.elapsed());
    assert_eq!(second.url(), lease.url());
    assert_eq!(second.server_pid(), lease.server_pid());
    drop(lease);
    std::thread::sleep(IDLE * 4);
    let check = format!(
        "postgres://postgres@127.0.0.1:{}/pg_cluster_check",
        second.port()
    );
    Client::connect(&check, NoTls).expect("the second lease keeps the server running");

    let (pid, port) = (second.server_pid(), second.port());
    drop(second);
    assert_goes_away(&dir, pid, port);
}

#[test]
fn a_server_that_died_is_replaced_at_the_next_start() {
    if !have_server_programs() {
        return;
    }
    let dir = scratch("died");
    let cluster = Cluster::new(&dir).idle_timeout(IDLE);
    let first = cluster.start().unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: signalling the server process this test started.
    unsafe { libc::kill(first.server_pid() as libc::pid_t, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while answers(first.port()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(first);

    let second = cluster.start().unwrap_or_else(|e| panic!("{e}"));
    Client::connect(second.url(), NoTls)
        .unwrap()
        .batch_execute("SELECT 1")
        .unwrap();
    let (pid, port) = (second.server_pid(), second.port());
    drop(second);
    assert_goes_away(&dir, pid, port);
}

#[test]
fn a_crashed_server_restarts_on_its_data_with_what_was_committed() {
    if !have_server_programs() {
        return;
    }
    let dir = scratch("crash");
    let cluster = Cluster::new(&dir).idle_timeout(IDLE);
    let mut lease = cluster.start().unwrap_or_else(|e| panic!("{e}"));
    let port = lease.port();
    let mut client = Client::connect(lease.url(), NoTls).unwrap();
    // ALTER SYSTEM runs alone (not in a transaction block).
    client.batch_execute("ALTER SYSTEM SET fsync = on").unwrap();
    client.batch_execute("CREATE TABLE kept (n int)").unwrap();
    drop(client);
    for (round, how) in [Crash::Immediate, Crash::Kill(Duration::from_millis(200))]
        .into_iter()
        .enumerate()
    {
        let round = round as i32;
        let mut client = Client::connect(lease.url(), NoTls).unwrap();
        client
            .execute("INSERT INTO kept VALUES ($1)", &[&round])
            .unwrap();
        // A transaction still open when the server goes down leaves nothing.
        let mut open = Client::connect(lease.url(), NoTls).unwrap();
        open.batch_execute("BEGIN; INSERT INTO kept VALUES (-1)")
            .unwrap();

        let old_pid = lease.server_pid();
        lease.crash(how).unwrap_or_else(|e| panic!("{how:?}: {e}"));
        assert!(gone(old_pid), "{how:?}: the server still runs");
        assert!(!answers(port), "{how:?}: port {port} still answers");
        assert!(client.batch_execute("SELECT 1").is_err());
        assert!(open.batch_execute("COMMIT").is_err());
        let error = lease.crash(how).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Stop, "{error}");

        lease = cluster
            .restart(lease)
            .unwrap_or_else(|e| panic!("{how:?}: {e}"));
        assert_eq!(lease.port(), port, "the same port after a restart");
        assert_ne!(lease.server_pid(), old_pid);
        let mut client = Client::connect(lease.url(), NoTls).unwrap();
        let rows: Vec<i32> = client
            .query("SELECT n FROM kept ORDER BY n", &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(rows, (0..=round).collect::<Vec<_>>(), "after {how:?}");
        let fsync: String = client.query_one("SHOW fsync", &[]).unwrap().get(0);
        assert_eq!(fsync, "on", "ALTER SYSTEM settings are kept");
    }

    // A server that runs is not restarted.
    let joined = cluster.start().unwrap();
    let error = cluster.restart(joined).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Start, "{error}");
    assert!(error.to_string().contains("still runs"), "{error}");

    let pid = lease.server_pid();
    cluster.remove().unwrap_or_else(|e| panic!("{e}"));
    assert!(!dir.exists(), "{} is left", dir.display());
    assert!(gone(pid), "server process {pid} is still there");
    assert!(!answers(port));
    drop(lease);
    cluster.remove().expect("removing nothing is no error");
}

/// Environment variable naming the cluster directory of [`hold_a_lease`].
const HOLDER_DIR: &str = "PG_CLUSTER_TEST_HOLDER_DIR";

/// Not a test: the other process of
/// [`processes_share_one_cluster_and_the_last_one_out_stops_it`]. Takes a lease, prints
/// its URL, and exits without dropping it when its standard input closes, the way a
/// test binary ends.
#[test]
#[ignore = "run by processes_share_one_cluster_and_the_last_one_out_stops_it"]
fn hold_a_lease() {
    let Some(dir) = std::env::var_os(HOLDER_DIR) else {
        return;
    };
    let lease = Cluster::new(PathBuf::from(dir))
        .idle_timeout(IDLE)
        .start()
        .unwrap_or_else(|e| panic!("{e}"));
    println!("URL {}", lease.url());
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().lines().count();
    std::process::exit(0);
}

#[test]
fn processes_share_one_cluster_and_the_last_one_out_stops_it() {
    if !have_server_programs() {
        return;
    }
    let dir = scratch("processes");
    let spawn_holder = || {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "hold_a_lease", "--ignored", "--nocapture"])
            .env(HOLDER_DIR, &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let url = stdout
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("URL ").map(str::to_owned))
            .expect("the holder prints its URL");
        (child, url)
    };
    let (mut first, url) = spawn_holder();
    let (mut second, second_url) = spawn_holder();
    assert_eq!(url, second_url, "both processes use the same server");
    let mut client = Client::connect(&url, NoTls).unwrap();
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    assert!(pid > 0);
    let server_pid: u32 = std::fs::read_to_string(dir.join("server/data/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    drop(client);

    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
    std::thread::sleep(IDLE * 4);
    Client::connect(&url, NoTls).expect("the second process keeps the server running");

    drop(second.stdin.take());
    assert!(second.wait().unwrap().success());
    let port: u16 = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap();
    assert_goes_away(&dir, server_pid, port);
}

#[test]
fn without_server_programs_the_error_names_the_package_to_install() {
    let dir = scratch("no-programs");
    let nowhere = dir.join("no-bin");
    let error = Cluster::new(&dir)
        .search_only(vec![nowhere.clone()])
        .start()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoServerBinaries);
    let message = error.to_string();
    for expected in [
        "initdb",
        &nowhere.display().to_string(),
        "Debian/Ubuntu: apt-get install postgresql",
        "Fedora/RHEL:   dnf install postgresql-server",
        "macOS:         brew install postgresql@16",
        "DATABASE_URL",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} missing in:\n{message}"
        );
    }
    assert!(!dir.exists(), "nothing is created without server programs");
}
