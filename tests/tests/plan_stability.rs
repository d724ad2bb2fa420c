//! The plans of the generated functions do not depend on what a session ran first.
//!
//! plpgsql plans each statement of a function on its first call in a session and keeps
//! the plan. A pooled connection runs small statements long before large ones, so a plan
//! made from a one-row call must still be right for 4,000 rows, and a lookup planned while
//! an audit table was empty must still use its index once the table is large. These
//! tests run on one long-lived connection the way a pool does, and compare with a fresh
//! connection (ratios inside one test, never absolute times), and count sequential scans
//! of the audit tables with `pg_stat_user_tables`.

use audit_codegen::Config;
use audit_tests::{
    ScratchDir, TestDb, audit_catalog, audit_spec, describe, fixture, install_audit,
};
use postgres::Client;
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows of the audited table; large statements touch [`LARGE`] of them.
const ROWS: i64 = 10_000;
/// Rows of a large statement: with a nested-loop join kept from a one-row call, a
/// 4,000-row UPDATE takes 10-15 times as long as on a fresh connection, a key change of
/// as many rows over 100 times.
const LARGE: i64 = 4_000;
/// How much slower than on a fresh connection a large statement may be on a connection
/// that ran small ones first: far above the noise of a busy machine, far below the
/// factor of a plan made for one row.
const MAX_RATIO: f64 = 4.0;

/// A database with the audited table `item` (a one-column key, checked at the end of each
/// statement so that keys can be swapped) holding [`ROWS`] rows,
/// and `pair` (a composite key), both audited by the generated triggers.
fn item_db(label: &str) -> TestDb {
    let db = TestDb::with_sql(
        label,
        "CREATE TABLE item (id bigint PRIMARY KEY DEFERRABLE, quantity integer NOT NULL, note text);
         CREATE TABLE pair (a integer, b text, quantity integer, PRIMARY KEY (a, b));",
    );
    let spec = audit_spec(
        &db,
        "bigint",
        &[
            ("public", "item", &[], false),
            ("public", "pair", &[], false),
        ],
    );
    install_audit(&db, &spec);
    db.client()
        .batch_execute(&format!(
            "INSERT INTO item SELECT g, 0, 'note ' || g FROM generate_series(1, {ROWS}) g;
             INSERT INTO pair SELECT g, 'b', 0 FROM generate_series(1, {ROWS}) g;
             ANALYZE item; ANALYZE pair;"
        ))
        .unwrap_or_else(|e| panic!("filling the tables: {}", describe(&e)));
    db
}

/// Runs `sql` in one transaction, with `context` applied first when given.
fn run(client: &mut Client, sql: &str, context: bool) {
    let mut tx = client.transaction().unwrap();
    if context {
        tx.execute(
            "SELECT audit.set_context($1, '192.0.2.7', '{\"reason\": \"test\"}')",
            &[&"7"],
        )
        .unwrap();
    }
    tx.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
    tx.commit().unwrap();
}

/// Runs `sql` as [`run`] does and returns how long it took.
fn timed(client: &mut Client, sql: &str, context: bool) -> Duration {
    let start = Instant::now();
    run(client, sql, context);
    start.elapsed()
}

/// Small statements of every kind, with and without a context: what a pooled connection
/// has run long before its first large statement.
fn small_statements_of_every_kind(client: &mut Client) {
    for context in [false, true] {
        for sql in [
            "INSERT INTO item VALUES (-1, 1, 'small')",
            "UPDATE item SET quantity = quantity + 1 WHERE id = 1",
            "UPDATE item SET quantity = quantity + 1 WHERE id IN (1, 2)",
            "UPDATE item SET id = -2 WHERE id = -1",
            "UPDATE item SET id = 3 - id WHERE id IN (1, 2)",
            "UPDATE pair SET b = 'c' WHERE a = 1",
            "UPDATE pair SET b = 'b' WHERE a = 1",
            "DELETE FROM item WHERE id = -2",
            "INSERT INTO pair VALUES (-1, 'x', 0)",
            "DELETE FROM pair WHERE a = -1",
        ] {
            run(client, sql, context);
        }
    }
}

/// One large statement of each kind, each followed by the one that undoes it, so the
/// tables end as they started. (label, statement, statement undoing it).
fn large_statements() -> Vec<(&'static str, String, String)> {
    vec![
        (
            "update",
            format!("UPDATE item SET quantity = quantity + 1 WHERE id <= {LARGE}"),
            format!("UPDATE item SET quantity = quantity - 1 WHERE id <= {LARGE}"),
        ),
        (
            "key change",
            format!("UPDATE item SET id = -id WHERE id BETWEEN 1 AND {LARGE}"),
            format!("UPDATE item SET id = -id WHERE id BETWEEN -{LARGE} AND -1"),
        ),
        (
            "composite key change",
            format!("UPDATE pair SET b = 'moved' WHERE a <= {LARGE}"),
            format!("UPDATE pair SET b = 'b' WHERE a <= {LARGE}"),
        ),
        (
            "insert",
            format!(
                "INSERT INTO item SELECT g, 0, 'new' FROM generate_series({}, {}) g",
                ROWS + 1,
                ROWS + LARGE
            ),
            format!("DELETE FROM item WHERE id > {ROWS}"),
        ),
    ]
}

#[test]
fn large_statements_after_small_ones_on_one_connection_take_the_time_of_a_fresh_connection() {
    let db = item_db("plans_pooled");
    let mut pooled = db.client();
    small_statements_of_every_kind(&mut pooled);

    let mut report = Vec::new();
    let mut failures = Vec::new();
    for context in [false, true] {
        for (label, forward, back) in large_statements() {
            // Each side runs the statement and its undoing twice; the faster of each
            // pair counts, so one hiccup of a busy machine does not decide.
            let mut fresh_best = Duration::MAX;
            let mut pooled_best = Duration::MAX;
            for _ in 0..2 {
                let mut fresh = db.client();
                fresh_best = fresh_best.min(timed(&mut fresh, &forward, context));
                let mut fresh = db.client();
                fresh_best = fresh_best.min(timed(&mut fresh, &back, context));
                pooled_best = pooled_best.min(timed(&mut pooled, &forward, context));
                pooled_best = pooled_best.min(timed(&mut pooled, &back, context));
            }
            let ratio = pooled_best.as_secs_f64() / fresh_best.as_secs_f64();
            let line = format!(
                "{label} of {LARGE} rows, context {context}: fresh {fresh_best:?}, \
                 pooled {pooled_best:?}, ratio {ratio:.2}"
            );
            if ratio > MAX_RATIO {
                failures.push(line.clone());
            }
            report.push(line);
        }
    }
    println!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "large statements are much slower on a connection that ran small ones first \
         (a plan kept from a small call):\n{}\nall:\n{}",
        failures.join("\n"),
        report.join("\n")
    );

    // Nothing was lost on the way: every statement above was recorded.
    let mut client = db.client();
    let updates: i64 = client
        .query_one(
            "SELECT count(*) FROM audit.activity WHERE verb = 'update' AND table_name = 'item'
                AND object_id OPERATOR(pg_catalog.=) '1'::jsonb",
            &[],
        )
        .unwrap()
        .get(0);
    // Record 1, per context: 2 small updates of its quantity and a key swap with record 2
    // that lands on 1; then, per context, round and side, a large update and its undoing
    // (2) and the key change back from -1 (1).
    assert_eq!(updates, 2 * 3 + 8 * 2 + 8, "updates recorded for record 1");
}

/// Sequential scans of the audit tables since the statistics were last read.
struct ScanCounter {
    seq_scans: Vec<(String, i64)>,
}

impl ScanCounter {
    fn read(client: &mut Client) -> Self {
        // The backend reports its counts when it goes idle; force the next report and
        // read in a new snapshot.
        client
            .batch_execute("SELECT pg_stat_force_next_flush()")
            .unwrap();
        client
            .batch_execute("SELECT pg_stat_clear_snapshot()")
            .unwrap();
        let seq_scans = client
            .query(
                "SELECT relname::text, seq_scan FROM pg_stat_user_tables
                  WHERE schemaname = 'audit' ORDER BY relname",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Self { seq_scans }
    }

    /// The tables scanned sequentially between `self` and `later`, with the count.
    fn scanned_since(&self, later: &ScanCounter) -> Vec<(String, i64)> {
        later
            .seq_scans
            .iter()
            .filter_map(|(table, after)| {
                let before = self
                    .seq_scans
                    .iter()
                    .find(|(t, _)| t == table)
                    .map_or(0, |(_, n)| *n);
                (after > &before).then(|| (table.clone(), after - before))
            })
            .collect()
    }
}

/// The write-path workload: statements of every size and kind, with and without a
/// context, the context set before and after the changes.
fn write_path_workload(client: &mut Client) {
    small_statements_of_every_kind(client);
    for context in [false, true] {
        for (_, forward, back) in large_statements() {
            run(client, &forward, context);
            run(client, &back, context);
        }
    }
    // A context set after the changes links them to the transaction row.
    let mut tx = client.transaction().unwrap();
    tx.batch_execute("UPDATE item SET quantity = quantity + 1 WHERE id <= 10")
        .unwrap();
    tx.execute("SELECT audit.set_context($1, NULL, NULL)", &[&"8"])
        .unwrap();
    tx.batch_execute("UPDATE item SET quantity = quantity - 1 WHERE id <= 10")
        .unwrap();
    tx.commit().unwrap();
    // The same single-row statements on the extended protocol (prepared, with bound
    // parameters), with and without a context.
    for context in [false, true] {
        let mut tx = client.transaction().unwrap();
        if context {
            tx.execute("SELECT audit.set_context($1, NULL, NULL)", &[&"9"])
                .unwrap();
        }
        tx.execute(
            "INSERT INTO item VALUES ($1, $2, $3)",
            &[&-5_i64, &1_i32, &"p"],
        )
        .unwrap();
        tx.execute(
            "UPDATE item SET quantity = quantity + $1 WHERE id = $2",
            &[&1_i32, &-5_i64],
        )
        .unwrap();
        tx.execute("UPDATE item SET id = $1 WHERE id = $2", &[&-6_i64, &-5_i64])
            .unwrap();
        tx.execute("DELETE FROM item WHERE id = $1", &[&-6_i64])
            .unwrap();
        tx.commit().unwrap();
    }
}

fn assert_no_sequential_scans(db: &TestDb, state: &str) {
    let mut client = db.client();
    let before = ScanCounter::read(&mut client);
    write_path_workload(&mut client);
    let after = ScanCounter::read(&mut client);
    let scanned = before.scanned_since(&after);
    assert!(
        scanned.is_empty(),
        "the write path scanned audit tables sequentially ({state}): {scanned:?}"
    );
    // The counters count: a read that no index serves does show up.
    client
        .batch_execute(
            "SET max_parallel_workers_per_gather = 0;
             SELECT count(*) FROM audit.transaction WHERE context::text <> 'x';
             RESET max_parallel_workers_per_gather;",
        )
        .unwrap();
    let read = ScanCounter::read(&mut client);
    assert_eq!(
        after.scanned_since(&read),
        vec![("transaction".to_owned(), 1)],
        "a filter on an unindexed column is one sequential scan"
    );
}

#[test]
fn the_write_path_never_scans_an_empty_audit_schema_sequentially() {
    let db = item_db("plans_seqscan_empty");
    let mut client = db.client();
    client
        .batch_execute(
            "TRUNCATE audit.activity, audit.transaction, audit.key_change;
             ANALYZE audit.activity; ANALYZE audit.transaction; ANALYZE audit.key_change;",
        )
        .unwrap();
    assert_no_sequential_scans(&db, "empty, statistics say so");
}

#[test]
fn the_write_path_never_scans_a_populated_audit_schema_sequentially() {
    let db = item_db("plans_seqscan_full");
    let mut client = db.client();
    // 1,000,000 transaction rows of other transactions, leftover key-change notes of
    // others, and statistics that say so.
    client
        .batch_execute(
            "INSERT INTO audit.transaction (native_transaction_id, issued_at, actor_id)
             SELECT (g + 1000)::text::xid8, now() - g * interval '1 second', g % 100
               FROM generate_series(1, 1000000) g;
             INSERT INTO audit.key_change (native_transaction_id, relid, old_key, new_key)
             SELECT (g + 1000)::text::xid8, 'item'::regclass, to_jsonb(g), to_jsonb(-g)
               FROM generate_series(1, 20000) g;
             ANALYZE audit.activity; ANALYZE audit.transaction; ANALYZE audit.key_change;",
        )
        .unwrap();
    assert_no_sequential_scans(&db, "populated, statistics say so");
}

#[test]
fn a_connection_that_planned_on_an_empty_audit_schema_keeps_using_the_indexes() {
    let db = item_db("plans_seqscan_grown");
    let mut client = db.client();
    client
        .batch_execute(
            "TRUNCATE audit.activity, audit.transaction, audit.key_change;
             ANALYZE audit.activity; ANALYZE audit.transaction; ANALYZE audit.key_change;",
        )
        .unwrap();
    // Plans made while empty...
    write_path_workload(&mut client);
    // ...then the tables grow, without new statistics (autovacuum has not come by).
    db.client()
        .batch_execute(
            "INSERT INTO audit.transaction (native_transaction_id, issued_at, actor_id)
             SELECT (g + 1000)::text::xid8, now(), g % 100 FROM generate_series(1, 200000) g;",
        )
        .unwrap();
    let before = ScanCounter::read(&mut client);
    write_path_workload(&mut client);
    let after = ScanCounter::read(&mut client);
    assert_eq!(before.scanned_since(&after), vec![], "sequential scans");
}

/// Applies the migration files `files` in order, each in one transaction.
fn apply(client: &mut Client, files: &[impl AsRef<Path>]) {
    for file in files {
        let sql = std::fs::read_to_string(file.as_ref()).unwrap();
        client
            .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
            .unwrap_or_else(|e| panic!("{}: {}", file.as_ref().display(), describe(&e)));
    }
}

/// The project of `tests/fixtures/upgrade_plan_cache` (the blog example as an earlier
/// generator emitted it, with its lock and migrations), copied to a scratch directory.
fn earlier_project(label: &str) -> ScratchDir {
    let dir = ScratchDir::new(label);
    let source = fixture("upgrade_plan_cache");
    for file in ["audit.toml", "audit.lock", "schema.sql"] {
        dir.write(file, &std::fs::read_to_string(source.join(file)).unwrap());
    }
    for entry in std::fs::read_dir(source.join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        dir.write(
            &format!("migrations/{}", path.file_name().unwrap().to_string_lossy()),
            &std::fs::read_to_string(&path).unwrap(),
        );
    }
    dir
}

/// The migration files of `dir`, in the order refinery applies them (by version).
fn migrations(dir: &ScratchDir) -> Vec<std::path::PathBuf> {
    let mut files = dir.files("migrations");
    files.sort_by_key(|p| version(p));
    files
}

/// The version of a refinery migration file `V<version>__<name>.sql`.
fn version(path: &Path) -> u32 {
    let name = path.file_name().unwrap().to_string_lossy();
    name[1..name.find("__").unwrap()].parse().unwrap()
}

fn generate(dir: &ScratchDir) -> Vec<std::path::PathBuf> {
    let mut written: Vec<_> = Config::new()
        .manifest(dir.path().join("audit.toml"))
        .cargo_output(false)
        .check(false)
        .write_migrations(true)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .written
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    written.sort_by_key(|p| version(p));
    written
}

/// The catalog part of [`audit_catalog`] (objects, not rows).
fn objects(client: &mut Client) -> Vec<String> {
    audit_catalog(client, "audit")
        .into_iter()
        .filter(|line| !line.starts_with("rows "))
        .collect()
}

#[test]
fn an_installation_of_an_earlier_generator_gets_the_stable_plans_through_its_upgrade_migrations() {
    // The installation as it was: the earlier migrations, applied.
    let project = earlier_project("plans_upgrade");
    let upgraded = TestDb::new("plans_upgraded");
    let mut client = upgraded.client();
    apply(&mut client, &migrations(&project));
    client
        .batch_execute(
            "INSERT INTO users (name, email) VALUES ('a', 'a@example.com');
             INSERT INTO article (author_id, title)
             SELECT 1, 'title ' || g FROM generate_series(1, 10000) g;",
        )
        .unwrap();

    // The generator emits upgrade migrations, and they apply over the installation.
    let new_files = generate(&project);
    let names: Vec<String> = new_files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "V7__audit_schema_upgrade.sql",
            "V8__audit_public_article_update.sql",
            "V9__audit_public_comment_update.sql",
            "V10__audit_public_tag_update.sql",
            "V11__audit_public_users_update.sql",
        ]
    );
    apply(&mut client, &new_files);
    // A second generation has nothing left to do.
    assert_eq!(generate(&project), Vec::<std::path::PathBuf>::new());

    // The upgraded audit trail is the one a fresh install of this generator makes.
    let fresh_project = earlier_project("plans_fresh");
    std::fs::remove_file(fresh_project.path().join("audit.lock")).unwrap();
    for file in migrations(&fresh_project) {
        if !file.ends_with("V1__blog_schema.sql") {
            std::fs::remove_file(file).unwrap();
        }
    }
    generate(&fresh_project);
    let fresh = TestDb::new("plans_fresh_install");
    apply(&mut fresh.client(), &migrations(&fresh_project));
    assert_eq!(objects(&mut client), objects(&mut fresh.client()));

    // And a pooled connection of the upgraded database is as fast as a fresh one.
    let mut pooled = upgraded.client();
    run(
        &mut pooled,
        "UPDATE article SET title = title || '!' WHERE id = 1",
        false,
    );
    let forward = format!("UPDATE article SET body = 'x' WHERE id <= {LARGE}");
    let back = format!("UPDATE article SET body = '' WHERE id <= {LARGE}");
    let mut fresh_best = Duration::MAX;
    let mut pooled_best = Duration::MAX;
    for _ in 0..2 {
        fresh_best = fresh_best.min(timed(&mut upgraded.client(), &forward, false));
        fresh_best = fresh_best.min(timed(&mut upgraded.client(), &back, false));
        pooled_best = pooled_best.min(timed(&mut pooled, &forward, false));
        pooled_best = pooled_best.min(timed(&mut pooled, &back, false));
    }
    let ratio = pooled_best.as_secs_f64() / fresh_best.as_secs_f64();
    assert!(
        ratio <= MAX_RATIO,
        "after the upgrade a pooled connection is {ratio:.1} times slower \
         (fresh {fresh_best:?}, pooled {pooled_best:?})"
    );
}
