//! What the figures were measured on: the machine and the PostgreSQL server.

use postgres::Client;

/// A description of the machine and server, for the report header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    /// Online CPUs (`nproc`).
    pub cpus: usize,
    /// Total memory in MiB (from `/proc/meminfo`).
    pub memory_mib: Option<u64>,
    /// The CPU model name (from `/proc/cpuinfo`).
    pub cpu_model: Option<String>,
    /// `SELECT version()`.
    pub postgres: String,
    /// Server settings that move the figures (`shared_buffers`, `synchronous_commit`, …).
    pub settings: Vec<(String, String)>,
}

/// Server settings worth printing next to the figures.
const SETTINGS: &[&str] = &[
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "max_wal_size",
];

impl Machine {
    /// Describes this machine and the server `client` is connected to.
    pub fn describe(client: &mut Client) -> Result<Self, postgres::Error> {
        let postgres = client.query_one("SELECT pg_catalog.version()", &[])?.get(0);
        let mut settings = Vec::new();
        for name in SETTINGS {
            let row = client.query_one("SELECT pg_catalog.current_setting($1)", &[name])?;
            settings.push(((*name).to_owned(), row.get(0)));
        }
        Ok(Self {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_mib: read("/proc/meminfo").and_then(|text| memory_mib(&text)),
            cpu_model: read("/proc/cpuinfo").and_then(|text| cpu_model(&text)),
            postgres,
            settings,
        })
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `MemTotal:  24684000 kB` → MiB.
fn memory_mib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    let line = cpuinfo.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        assert_eq!(memory_mib("MemTotal:       24684000 kB\n"), Some(24105));
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: Intel(R) Xeon(R)\n").as_deref(),
            Some("Intel(R) Xeon(R)")
        );
    }
}
