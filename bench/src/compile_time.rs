//! The clean compile time of what a user's crate adds to its build: audit-codegen (with
//! default features) as a build-dependency, with the dev-profile optimization of the
//! generator that its docs recommend (and that the code generation timing assumes).
//! Built in a throw-away crate with its own target directory, so nothing cached by this
//! workspace is reused.

use crate::model::CompileTime;
use crate::options::workspace_root;
use std::process::Command;
use std::time::Instant;

/// Creates the probe crate in a temporary directory, builds it, and removes it.
pub fn measure() -> Result<CompileTime, String> {
    let dir = std::env::temp_dir().join(format!("audit-bench-compile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = write_probe(&dir).and_then(|()| build(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn write_probe(dir: &std::path::Path) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let codegen = workspace_root().join("audit-codegen");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"audit-compile-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[workspace]\n\n[build-dependencies]\n\
             audit-codegen = {{ path = {:?} }}\n\n{}",
            codegen.display().to_string(),
            generator_profile()
        ),
    )
    .map_err(io)?;
    // Referencing the crate keeps it a real dependency of the build script.
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    \
         let _ = audit_codegen::manifest::DEFAULT_FILE_NAME;\n}\n",
    )
    .map_err(io)?;
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").map_err(io)?;
    // The workspace's lock file pins the same versions this workspace is tested with
    // (cargo drops what the probe does not use) and lets the build work offline.
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).map_err(io)?;
    Ok(())
}

/// The `[profile.dev.package.*]` sections of this workspace's Cargo.toml: the ones
/// audit-codegen's docs tell users to copy.
fn generator_profile() -> String {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap_or_default();
    let mut out = String::new();
    let mut copying = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            copying = line.starts_with("[profile.dev.package.");
        }
        if copying {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn build(dir: &std::path::Path) -> Result<CompileTime, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let started = Instant::now();
    let output = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .args(["build", "--offline"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("cargo build of the probe crate failed:\n{stderr}"));
    }
    let crates = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count();
    Ok(CompileTime { wall, crates })
}
