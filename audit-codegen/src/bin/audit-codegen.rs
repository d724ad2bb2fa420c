//! The `audit-codegen` command: the build script's work, for those who prefer a command.
//!
//! Exit codes: 0 success; 1 `check` found pending changes; 2 invalid input or any other
//! error (the message on stderr says which).

use audit_codegen::{Config, Error};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Generate and check a PostgreSQL audit trail from audit.toml.
#[derive(Parser)]
#[command(name = "audit-codegen", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Introspect a live database and write its schema as a JSON snapshot.
    Snapshot {
        /// Connection URL (default: $DATABASE_URL).
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Where to write the snapshot.
        #[arg(long, short, default_value = "audit-schema.json")]
        output: PathBuf,
    },
    /// Write new migrations (and audit.lock), and audit.rs when --out-dir is given.
    Generate {
        /// The manifest.
        #[arg(long, short, default_value = "audit.toml")]
        manifest: PathBuf,
        /// Also write the typed Rust code as audit.rs into this directory.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Exit with status 1 and list the pending changes when migrations are not up to date.
    Check {
        /// The manifest.
        #[arg(long, short, default_value = "audit.toml")]
        manifest: PathBuf,
    },
    /// Print the migrations that `generate` would write, without writing them.
    Diff {
        /// The manifest.
        #[arg(long, short, default_value = "audit.toml")]
        manifest: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Snapshot {
            database_url,
            output,
        } => {
            let schema = audit_codegen::source::live::introspect_url(&database_url)?;
            audit_codegen::source::snapshot::write(&output, &schema)?;
            eprintln!(
                "wrote {} ({} tables, {} enums, {} domains, {} composites)",
                output.display(),
                schema.tables.len(),
                schema.enums.len(),
                schema.domains.len(),
                schema.composites.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { manifest, out_dir } => {
            let mut config = Config::new()
                .manifest(manifest)
                .cargo_output(false)
                .check(false)
                .write_migrations(true);
            if let Some(dir) = out_dir {
                config = config.out_dir(dir);
            }
            let generated = config.generate()?;
            for warning in &generated.warnings {
                eprintln!("warning: {warning}");
            }
            if generated.written.is_empty() {
                eprintln!("up to date: nothing written");
            }
            for path in &generated.written {
                eprintln!("wrote {}", path.display());
            }
            if let Some(path) = &generated.rust_file {
                eprintln!("rust code in {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { manifest } => {
            let (_, plan) = Config::new().manifest(manifest).plan()?;
            let pending = plan.pending_changes();
            if pending.is_empty() {
                eprintln!("up to date");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("audit migrations are not up to date:");
                for change in pending {
                    eprintln!("  {change}");
                }
                Ok(ExitCode::from(1))
            }
        }
        Command::Diff { manifest } => {
            let (_, plan) = Config::new().manifest(manifest).plan()?;
            if plan.is_empty() {
                eprintln!("up to date: no migration would be written");
            }
            for migration in &plan.migrations {
                for (path, contents) in &migration.files {
                    println!("--- {path}");
                    print!("{contents}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
