//! The watcher: a detached process that stops the cluster's server once no process has
//! used it for the idle timeout, then removes its data directory.
//!
//! It is forked from the process that started the server (twice, so that it belongs to
//! no process of ours and leaves no zombie), and does not `exec` anything until its work
//! is done: there is no binary of ours to run in a test process. A child forked from a
//! multi-threaded process may only make async-signal-safe calls until it `exec`s, so
//! everything it needs (paths as C strings, the argument vector of `rm`) is prepared
//! before the fork, and the child itself only calls `open`, `read`, `close`, `dup2`,
//! `setsid`, `flock`, `kill`, `nanosleep`, `unlink`, `execv` and `_exit`, allocating
//! nothing and never panicking.

use std::ffi::{CString, c_int};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the watcher watches.
pub(crate) struct Watch {
    /// The cluster's lock, held (exclusively) to stop the server.
    pub lock: PathBuf,
    /// The file each user holds a shared lock on.
    pub users: PathBuf,
    /// The server's data directory, removed after the stop.
    pub data: PathBuf,
    /// The file holding the watcher's pid, removed when it stops the server.
    pub pid_file: PathBuf,
    /// The server's postmaster.
    pub postmaster: libc::pid_t,
    /// How long the server may go unused before it is stopped.
    pub idle: Duration,
}

/// Everything the forked watcher uses, prepared before the fork.
struct Prepared {
    lock: CString,
    users: CString,
    postmaster_pid_file: CString,
    pid_file: CString,
    dev_null: CString,
    rm: CString,
    /// `rm -rf -- <data>`, NULL-terminated; the pointers point into `_rm_args`.
    rm_argv: Vec<*const libc::c_char>,
    _rm_args: Vec<CString>,
    postmaster: libc::pid_t,
    idle_ms: u64,
    max_fd: c_int,
}

/// How often the watcher looks.
const STEP_MS: u64 = 100;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path contains a NUL byte"))
}

fn c_text(text: &str) -> CString {
    CString::new(text).expect("constant without NUL")
}

/// Starts the watcher and returns its pid.
pub(crate) fn spawn(watch: &Watch) -> io::Result<libc::pid_t> {
    let rm_args = vec![
        c_text("rm"),
        c_text("-rf"),
        c_text("--"),
        c_path(&watch.data)?,
    ];
    let mut rm_argv: Vec<*const libc::c_char> = rm_args.iter().map(|a| a.as_ptr()).collect();
    rm_argv.push(std::ptr::null());
    // SAFETY: sysconf has no preconditions.
    let open_max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    let prepared = Prepared {
        lock: c_path(&watch.lock)?,
        users: c_path(&watch.users)?,
        postmaster_pid_file: c_path(&watch.data.join("postmaster.pid"))?,
        pid_file: c_path(&watch.pid_file)?,
        dev_null: c_text("/dev/null"),
        rm: c_text("/bin/rm"),
        rm_argv,
        _rm_args: rm_args,
        postmaster: watch.postmaster,
        idle_ms: u64::try_from(watch.idle.as_millis()).unwrap_or(u64::MAX),
        max_fd: if (1..=65_536).contains(&open_max) {
            open_max as c_int
        } else {
            65_536
        },
    };

    let mut pipe = [0 as c_int; 2];
    // SAFETY: `pipe` has room for the two descriptors.
    if unsafe { libc::pipe(pipe.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_end, write_end] = pipe;
    // SAFETY: the child makes only async-signal-safe calls (see the module docs).
    let child = unsafe { libc::fork() };
    if child < 0 {
        let error = io::Error::last_os_error();
        // SAFETY: both descriptors are ours.
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        return Err(error);
    }
    if child == 0 {
        // SAFETY: in the intermediate child: async-signal-safe calls only.
        unsafe {
            libc::close(read_end);
            let watcher = libc::fork();
            if watcher == 0 {
                libc::close(write_end);
                run(&prepared);
            }
            let bytes = watcher.to_ne_bytes();
            libc::write(write_end, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
    }
    // SAFETY: the write end is ours and the child has its own copy.
    unsafe { libc::close(write_end) };
    let mut bytes = [0u8; std::mem::size_of::<libc::pid_t>()];
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: the buffer has `bytes.len() - filled` bytes free at that offset.
        let n = unsafe {
            libc::read(
                read_end,
                bytes[filled..].as_mut_ptr().cast(),
                bytes.len() - filled,
            )
        };
        if n > 0 {
            filled += n as usize;
        } else if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
    let mut status = 0;
    // SAFETY: `child` is our child; the descriptor is ours.
    unsafe {
        while libc::waitpid(child, &mut status, 0) < 0
            && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
        {}
        libc::close(read_end);
    }
    let watcher = libc::pid_t::from_ne_bytes(bytes);
    if filled < bytes.len() || watcher <= 0 {
        return Err(io::Error::other("the watcher process could not be forked"));
    }
    Ok(watcher)
}

/// The watcher's whole life. Never returns.
///
/// # Safety
///
/// Only to be called in a freshly forked child.
unsafe fn run(p: &Prepared) -> ! {
    // SAFETY: async-signal-safe calls on descriptors and C strings we own.
    unsafe {
        // Out of the session (no terminal signals), off the parent's stdio (a pipe that
        // `cargo` or a shell waits on), and rid of every inherited descriptor: the
        // parent's lock descriptions must not stay locked through us.
        libc::setsid();
        let null = libc::open(p.dev_null.as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
        }
        let mut fd = 3;
        while fd < p.max_fd {
            libc::close(fd);
            fd += 1;
        }

        let mut idle_ms: u64 = 0;
        loop {
            sleep_ms(STEP_MS);
            if !server_alive(p) {
                libc::_exit(0);
            }
            if !unused(p) {
                idle_ms = 0;
                continue;
            }
            idle_ms = idle_ms.saturating_add(STEP_MS);
            if idle_ms < p.idle_ms {
                continue;
            }
            // Nobody may join while we decide and stop: take the cluster's lock, then
            // look again. It stays held until `rm` below has exited.
            let lock = libc::open(
                p.lock.as_ptr(),
                libc::O_RDWR | libc::O_CREAT,
                0o644 as libc::c_uint,
            );
            if lock < 0 {
                libc::_exit(1);
            }
            while libc::flock(lock, libc::LOCK_EX) != 0 {
                if errno() != libc::EINTR {
                    libc::_exit(1);
                }
            }
            if !server_alive(p) {
                libc::_exit(0);
            }
            if !unused(p) {
                libc::close(lock);
                idle_ms = 0;
                continue;
            }
            stop(p);
            libc::unlink(p.pid_file.as_ptr());
            libc::execv(p.rm.as_ptr(), p.rm_argv.as_ptr());
            libc::_exit(1);
        }
    }
}

/// Whether no process holds a shared lock on the users file.
unsafe fn unused(p: &Prepared) -> bool {
    // SAFETY: async-signal-safe calls on our own descriptor.
    unsafe {
        let fd = libc::open(
            p.users.as_ptr(),
            libc::O_RDONLY | libc::O_CREAT,
            0o644 as libc::c_uint,
        );
        if fd < 0 {
            return false;
        }
        let free = libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) == 0;
        libc::close(fd);
        free
    }
}

/// Whether the postmaster still runs: the process exists and the data directory's
/// `postmaster.pid` (removed by the server when it stops) names it.
unsafe fn server_alive(p: &Prepared) -> bool {
    // SAFETY: async-signal-safe calls only.
    unsafe {
        if libc::kill(p.postmaster, 0) != 0 && errno() != libc::EPERM {
            return false;
        }
        let fd = libc::open(p.postmaster_pid_file.as_ptr(), libc::O_RDONLY);
        if fd < 0 {
            return false;
        }
        let mut buffer = [0u8; 16];
        let n = libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len());
        libc::close(fd);
        let mut pid: i64 = 0;
        let mut digits = 0;
        for &byte in buffer.iter().take(n.max(0) as usize) {
            if !byte.is_ascii_digit() {
                break;
            }
            pid = pid
                .saturating_mul(10)
                .saturating_add(i64::from(byte - b'0'));
            digits += 1;
        }
        digits > 0 && pid == i64::from(p.postmaster)
    }
}

/// Fast shutdown (SIGINT); immediate (SIGQUIT) after a minute; SIGKILL as a last resort.
unsafe fn stop(p: &Prepared) {
    for (signal, wait_ms) in [
        (libc::SIGINT, 60_000),
        (libc::SIGQUIT, 5_000),
        (libc::SIGKILL, 5_000),
    ] {
        // SAFETY: async-signal-safe calls only.
        unsafe {
            libc::kill(p.postmaster, signal);
            let mut waited = 0;
            while waited < wait_ms {
                // Gone, or at least done: a server removes its postmaster.pid last (an
                // exited process whose parent does not reap it still answers kill).
                if !server_alive(p) {
                    return;
                }
                sleep_ms(50);
                waited += 50;
            }
        }
    }
}

fn sleep_ms(ms: u64) {
    let time = libc::timespec {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long,
    };
    // SAFETY: nanosleep only reads `time`; an early wake-up just shortens a step.
    unsafe { libc::nanosleep(&time, std::ptr::null_mut()) };
}

/// The calling thread's `errno` (reading it allocates nothing).
fn errno() -> c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
