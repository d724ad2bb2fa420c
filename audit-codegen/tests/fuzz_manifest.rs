//! Fuzzing of the manifest loader and of the lock file, beyond the junk-input proptest
//! of `manifest.rs`: mutations of every real `audit.toml` (the manifest cases, the
//! example application's, a manifest using every key) resolved against the
//! kitchen-sink model, then, for whatever resolves, the SQL, the Rust and a migration
//! plan against the lock of an earlier run; and mutations of that lock. Errors are
//! expected; a panic, a hang or a stack overflow is a bug.
//!
//! `AUDIT_FUZZ_CASES=<n>` raises the number of cases of each target.

use audit_codegen::manifest::Manifest;
use audit_codegen::migrate::{Lock, plan::plan};
use audit_codegen::model::Schema;
use audit_codegen::spec::AuditSpec;
use audit_tests::fuzz;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many fuzzed manifests resolved into a spec (and so reached rendering and
/// planning): a target where none does would test only the first error path.
static RESOLVED: AtomicU64 = AtomicU64::new(0);

/// A manifest using every key, valid for the kitchen-sink model.
const FULL_MANIFEST: &str = r##"
audit_schema = "audit_trail"
actor_id_type = "bigint"

[schema]
pg_dump = "schema.sql"

[migrations]
dir = "migrations"
format = "refinery"

[rust]
time = "chrono"
[rust.types]
"public.mood" = "crate::Mood"
"numeric" = "rust_decimal::Decimal"

[tables.article]
exclude = ["search_vector", "updated_at"]
truncate = true
rust_name = "Story"
renamed_from = "post"
purge_dropped = true
purge_excluded = false
[tables.article.columns.body]
rust_type = "Option<String>"
attributes = ["#[serde(default)]"]
renamed_from = "text"

[tables.'"Order Items"']
[tables.'"Sales".invoice']
[tables.measurement]
[tables.user]
[tables."café"]
[tables.numbers]
exclude = ["doubled"]
"##;

/// The kitchen-sink model the manifests are resolved against.
fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/generated-check/fixtures/kitchen_sink.json");
        audit_codegen::source::snapshot::read(&path).unwrap()
    })
}

/// Every real manifest: the full one, the example application's and every case.
fn seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("tests/manifest_cases"))
            .unwrap()
            .map(|e| e.unwrap().path().join("audit.toml"))
            .collect();
        paths.sort();
        paths.push(root.join("../examples/blog/audit.toml"));
        let mut seeds = vec![FULL_MANIFEST.to_owned()];
        seeds.extend(paths.iter().map(|p| std::fs::read_to_string(p).unwrap()));
        seeds
    })
}

fn spec_of(text: &str) -> Option<(Manifest, AuditSpec)> {
    let manifest = Manifest::parse("/project/audit.toml", text).ok()?;
    let spec = manifest.resolve(schema()).ok()?;
    Some((manifest, spec))
}

/// The lock an earlier run of the full manifest left.
fn earlier_lock() -> &'static Lock {
    static LOCK: OnceLock<Lock> = OnceLock::new();
    LOCK.get_or_init(|| {
        let (manifest, spec) = spec_of(FULL_MANIFEST).expect("the full manifest resolves");
        plan(
            &spec,
            &Lock::default(),
            manifest.migrations().format,
            &[] as &[&str],
        )
        .unwrap()
        .lock
    })
}

/// Tokens that shape how TOML and the manifest read.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "=",
    ".",
    ",",
    "{",
    "}",
    "#",
    "\\",
    "\\u0000",
    "\\uD800",
    "\\U0010FFFF",
    "\n",
    "é",
    "🦀",
    "\u{0}",
    "\u{feff}",
    "1e400",
    "-0",
    "inf",
    "nan",
    "99999999999999999999999",
    "1979-05-27T07:32:00Z",
    "true",
    "[tables.article]",
    "[tables.\"Order Items\"]",
    "[tables.'\"Order Items\"']",
    "[tables.'\"Sales\".invoice']",
    "[tables.article.columns.body]",
    "[tables.article.columns.\"say \\\"hi\\\"\"]",
    "exclude = [\"name\", \"body\"]",
    "exclude = [\"id\"]",
    "truncate = true",
    "rust_name = \"Article\"",
    "rust_name = \"User\"",
    "rust_type = \"Vec<u8>\"",
    "rust_type = \"Option<\"",
    "attributes = [\"#[serde(default)]\"]",
    "renamed_from = \"story\"",
    "renamed_from = \"\\\"Sales\\\".invoice\"",
    "renamed_from = \"name\"",
    "purge_dropped = true",
    "purge_excluded = true",
    "audit_schema = \"audit\"",
    "audit_schema = \"public\"",
    "actor_id_type = \"uuid\"",
    "actor_id_type = \"public.mood\"",
    "actor_id_type = \"character varying(",
    "[rust.types]",
    "\"text\" = \"String\"",
    "\"public.address\" = \"crate::Address\"",
    "time = \"time\"",
    "[schema]",
    "pg_dump = \"s.sql\"",
    "ddl = [\"m\"]",
    "live = \"DATABASE_URL\"",
    "write_snapshot = \"s.json\"",
    "[migrations]",
    "format = \"plain\"",
    "format = \"diesel\"",
    "dir = \"\"",
    "x = [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
    "x = {a = {b = {c = {d = {e = {}}}}}}",
];

/// Parses, resolves, renders and plans `text`; errors are fine.
fn load_and_render(text: &str) {
    let Some((manifest, spec)) = spec_of(text) else {
        return;
    };
    RESOLVED.fetch_add(1, Ordering::Relaxed);
    let _ = audit_codegen::sql::render_audit_schema(&spec);
    for table in &spec.tables {
        let _ = audit_codegen::sql::render_table(&spec, table);
    }
    let _ = audit_codegen::rust::render(&spec);
    let format = manifest.migrations().format;
    let _ = plan(&spec, &Lock::default(), format, &["1_init.sql"]);
    let _ = plan(
        &spec,
        earlier_lock(),
        format,
        &["V7__audit_public_article.sql"],
    );
}

#[test]
fn mutated_real_manifests() {
    // Half the cases start from the manifest that resolves, with few edits, so that
    // many reach rendering and planning.
    let strategy = prop_oneof![
        fuzz::mutated(seeds().len(), FRAGMENTS, 6),
        (
            Just(0usize),
            prop::collection::vec(fuzz::edit(FRAGMENTS), 1..=2)
        ),
    ];
    let before = RESOLVED.load(Ordering::Relaxed);
    let runs = fuzz::run(
        "manifest, mutated real manifests",
        1000,
        strategy,
        |(seed, edits)| {
            load_and_render(&fuzz::apply(&seeds()[*seed], edits));
        },
    );
    let resolved = RESOLVED.load(Ordering::Relaxed) - before;
    println!("  {resolved} of {runs} mutated manifests resolved and were rendered and planned");
    assert!(resolved > 0);
}

#[test]
fn manifest_token_soup() {
    let soup = prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40)
        .prop_map(|parts| parts.join("\n"));
    fuzz::run("manifest, token soup", 1000, soup, |text| {
        load_and_render(text)
    });
}

/// Tokens that shape how the lock's JSON reads.
const LOCK_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "0",
    "-1",
    "1e999",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"sql_hash\"",
    "\"tables\"",
    "\"columns\"",
    "\"renames\"",
    "\"name\"",
    "[[[[[[[[[[",
];

#[test]
fn mutated_lock_files() {
    let strategy = fuzz::mutated(1, LOCK_FRAGMENTS, 6);
    fuzz::run("lock file, mutated", 1000, strategy, |(_, edits)| {
        let text = fuzz::apply(&earlier_lock().to_json(), edits);
        if let Ok(lock) = Lock::parse(Path::new("audit.lock"), &text)
            && let Some((manifest, spec)) = spec_of(FULL_MANIFEST)
        {
            let _ = plan(&spec, &lock, manifest.migrations().format, &[] as &[&str]);
        }
    });
}

#[test]
fn deeply_nested_toml_is_an_error_not_an_overflow() {
    for depth in [1_000, 100_000] {
        for text in [
            format!("x = {}1{}", "[".repeat(depth), "]".repeat(depth)),
            format!("x = {}1{}", "{a=".repeat(depth), "}".repeat(depth)),
            format!("[tables.article]\nexclude = {}", "[".repeat(depth)),
        ] {
            let worker = std::thread::spawn(move || load_and_render(&text));
            worker.join().expect("no panic");
        }
    }
}
