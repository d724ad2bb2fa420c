//! `audit-bench`: runs the benchmark suite and writes the markdown report.
//!
//! `cargo run --release -p audit-bench -- --out BENCHMARKS.md` (see `--help`).

use audit_bench::options::Options;
use audit_bench::{report, suite};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(args.clone()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let command = std::iter::once("cargo run --release -p audit-bench --".to_owned())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ");
    match suite::run(&options, &command) {
        Ok(report) => {
            let text = report::render(&report);
            if let Err(e) = std::fs::write(&options.out, &text) {
                eprintln!("cannot write {}: {e}", options.out.display());
                std::process::exit(1);
            }
            eprintln!("audit-bench: wrote {}", options.out.display());
            for outcome in audit_bench::targets::evaluate(&report) {
                eprintln!(
                    "  {} {}: {}",
                    audit_bench::targets::mark(outcome.met),
                    outcome.target,
                    outcome.measured
                );
            }
        }
        Err(e) => {
            eprintln!("audit-bench: {e}");
            std::process::exit(1);
        }
    }
}
