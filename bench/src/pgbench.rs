//! Running `pgbench` with a custom script and reading its throughput.
//!
//! pgbench rather than a Rust driver: it is the standard tool, and its C client adds
//! less overhead per transaction than anything the figures should be compared with.

use crate::model::Protocol;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// One pgbench run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// Transactions per second, without the initial connection time.
    pub tps: f64,
    /// Transactions completed.
    pub transactions: u64,
}

/// How long pgbench runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// For this long (`-T`, whole seconds, at least 1).
    Time(Duration),
    /// This many transactions per client (`-t`): the quick mode's short runs.
    Transactions(u64),
}

impl Length {
    fn args(self) -> [String; 2] {
        match self {
            Length::Time(d) => ["-T".into(), d.as_secs().max(1).to_string()],
            Length::Transactions(n) => ["-t".into(), n.max(1).to_string()],
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// Connection URL of the benchmark database.
    pub url: &'a str,
    /// The script's text.
    pub script: &'a str,
    /// Clients, each with its own thread.
    pub clients: u32,
    /// Length of the run.
    pub length: Length,
    /// The random seed, the same for every variant of a round so all see the same keys.
    pub seed: u64,
    /// The protocol (`-M`).
    pub protocol: Protocol,
}

static SCRIPTS: AtomicUsize = AtomicUsize::new(0);

/// Runs pgbench with the job's protocol and parses its summary.
pub fn run(job: &Job<'_>) -> Result<Run, String> {
    let path = script_path();
    std::fs::write(&path, job.script).map_err(|e| format!("{}: {e}", path.display()))?;
    let clients = job.clients.to_string();
    let output = Command::new("pgbench")
        .args([
            "-n",
            "-M",
            job.protocol.label(),
            "-c",
            &clients,
            "-j",
            &clients,
        ])
        .args(job.length.args())
        .arg(format!("--random-seed={}", job.seed))
        .args(["-D", "n=0", "-D", &format!("nclients={clients}")])
        .arg("-f")
        .arg(&path)
        .arg(job.url)
        .output();
    let _ = std::fs::remove_file(&path);
    let output = output.map_err(|e| format!("cannot run pgbench (is it installed?): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "pgbench failed ({}):\n{}\n{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse(&stdout).ok_or_else(|| format!("unexpected pgbench output:\n{stdout}"))
}

fn script_path() -> PathBuf {
    std::env::temp_dir().join(format!(
        "audit-bench-{}-{}.sql",
        std::process::id(),
        SCRIPTS.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Reads `tps = … (without initial connection time)` and the transaction count.
fn parse(stdout: &str) -> Option<Run> {
    let tps = stdout
        .lines()
        .find(|l| l.starts_with("tps = ") && l.contains("without initial connection time"))?
        .strip_prefix("tps = ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let transactions = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))?
        .split(['/', ' '])
        .next()?
        .parse()
        .ok()?;
    Some(Run { tps, transactions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_parsed() {
        let out = "transaction type: s.sql\n\
                   number of transactions actually processed: 6123\n\
                   number of failed transactions: 0 (0.000%)\n\
                   latency average = 0.898 ms\n\
                   initial connection time = 12.999 ms\n\
                   tps = 2226.345083 (without initial connection time)\n";
        assert_eq!(
            parse(out),
            Some(Run {
                tps: 2226.345083,
                transactions: 6123
            })
        );
        assert_eq!(parse("nothing"), None);
    }
}
