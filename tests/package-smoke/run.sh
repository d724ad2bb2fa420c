#!/usr/bin/env bash
# Packages audit-runtime and audit-codegen with `cargo package` (which also verifies that
# each package builds on its own against registry dependencies), unpacks the .crate
# files, and builds and runs this smoke crate against the unpacked sources rather than
# the workspace: a file missing from a package (a template, a README) fails here.
#
# Usage: bash tests/package-smoke/run.sh   (DATABASE_URL as for the test suite)
# Extra arguments go to `cargo package`, e.g. --no-verify for a quicker run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
export CARGO_TARGET_DIR="$target_dir"
scratch="$target_dir/package-smoke"

# Package both crates from the working tree (uncommitted changes included, so that the
# script checks what is about to be committed).
cargo package -p audit-runtime -p audit-codegen --allow-dirty "$@"

version() { cargo pkgid -p "$1" | sed 's/.*[#@]//'; }
rm -rf "$scratch"
mkdir -p "$scratch/crates"
for crate in audit-runtime audit-codegen; do
  file="$target_dir/package/$crate-$(version "$crate").crate"
  tar -xzf "$file" -C "$scratch/crates"
done
runtime_dir="$scratch/crates/audit-runtime-$(version audit-runtime)"
codegen_dir="$scratch/crates/audit-codegen-$(version audit-codegen)"

# A scratch copy of the smoke crate (its build writes migrations next to audit.toml),
# pointed at the unpacked packages, with the workspace's lock file so that dependency
# versions match the workspace's and compiled dependencies are shared.
app="$scratch/app"
mkdir -p "$app"
cp -R tests/package-smoke/Cargo.toml tests/package-smoke/build.rs tests/package-smoke/audit.toml \
  tests/package-smoke/schema.sql tests/package-smoke/src "$app/"
cat >>"$app/Cargo.toml" <<TOML

[patch.crates-io]
audit-runtime = { path = "$runtime_dir" }
audit-codegen = { path = "$codegen_dir" }
TOML
cp Cargo.lock "$app/Cargo.lock"

# The generator must write this crate's migrations, whatever the caller's check mode.
env -u AUDIT_CODEGEN_CHECK cargo run --manifest-path "$app/Cargo.toml"
