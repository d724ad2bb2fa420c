//! Issue-level scenario: a schema evolves under audit, migrations are applied by a real
//! migration runner (refinery), and every history row, old and new, decodes with the
//! types generated for the current schema.

use audit_evolution_check::{Change, Post, PostChange, Status};
use audit_runtime::{Activity, AuditContext};
use audit_tests::TestDb;
use refinery::{Migration, Runner, Target};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The committed migrations, as refinery reads them.
fn migrations() -> Vec<Migration> {
    let mut files: Vec<(u32, String, String)> = std::fs::read_dir(crate_dir().join("migrations"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let version = stem[1..stem.find("__").unwrap()].parse().unwrap();
            (version, stem, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|(_, name, sql)| Migration::unapplied(name, sql).unwrap())
        .collect()
}

fn activities(client: &mut postgres::Client) -> Vec<Activity> {
    client
        .query("SELECT * FROM audit.activity ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|row| Activity::from_row(row).unwrap())
        .collect()
}

#[test]
fn history_written_before_the_evolution_decodes_with_the_current_types() {
    let db = TestDb::new("evolution");
    let mut client = db.client();

    // Schema v1 and its audit migrations (V1..V4).
    Runner::new(&migrations())
        .set_target(Target::Version(4))
        .run(&mut client)
        .unwrap();
    let mut tx = client.transaction().unwrap();
    AuditContext::new()
        .actor_id("alice")
        .apply(&mut tx)
        .unwrap();
    tx.batch_execute(
        "INSERT INTO article (title, views, legacy, secret)
              VALUES ('First', 1, 'old', 's1'), ('Second', 2, NULL, 's2');
         UPDATE article SET title = 'First!', views = 10, secret = 's1b' WHERE title = 'First';
         DELETE FROM article WHERE title = 'Second';
         INSERT INTO tag VALUES (1, 'rust');",
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(activities(&mut client).len(), 5);

    // Schema v2 (V5) and the audit migrations generated for it (V6, V7).
    let report = Runner::new(&migrations()).run(&mut client).unwrap();
    assert_eq!(report.applied_migrations().len(), 3);
    let mut tx = client.transaction().unwrap();
    AuditContext::new().actor_id("bob").apply(&mut tx).unwrap();
    tx.batch_execute(
        "UPDATE post SET headline = 'First (edited)', views = 'many', published_on = '2026-01-01'
          WHERE id = 1;
         INSERT INTO comment (post_id, body) VALUES (1, 'Nice');
         UPDATE post SET secret = 'only the excluded column' WHERE id = 1;",
    )
    .unwrap();
    tx.commit().unwrap();

    let history = activities(&mut client);
    assert_eq!(history.len(), 7, "the excluded-only update records nothing");
    let changes: Vec<Change> = history
        .iter()
        .map(|a| Change::try_from(a).unwrap_or_else(|e| panic!("activity {}: {e}", a.id)))
        .collect();
    assert!(history.iter().all(|a| a.table_name != "article"));

    // The v1 insert: the renamed column's value is found under its new name, the retyped
    // column holds the new type's form, the dropped column is ignored.
    let Change::Post(PostChange::Insert { new }) = &changes[0] else {
        panic!("{:?}", changes[0]);
    };
    assert_eq!(
        new,
        &Post {
            id: 1,
            headline: "First".into(),
            views: "1".into(),
            status: Status::Draft,
            published_on: None,
        }
    );
    let Change::Post(PostChange::Update { old, changed }) = &changes[2] else {
        panic!("{:?}", changes[2]);
    };
    assert_eq!(old.headline, "First");
    assert_eq!(changed.headline.as_deref(), Some("First!"));
    assert_eq!(changed.views.as_deref(), Some("10"));
    let Change::Post(PostChange::Delete { old }) = &changes[3] else {
        panic!("{:?}", changes[3]);
    };
    assert_eq!(old.headline, "Second");
    assert!(matches!(changes[4], Change::Tag(_)));

    // v2 history decodes the same way, with the added column.
    let Change::Post(PostChange::Update { changed, .. }) = &changes[5] else {
        panic!("{:?}", changes[5]);
    };
    assert_eq!(changed.views.as_deref(), Some("many"));
    assert!(changed.published_on.is_some());
    assert!(matches!(changes[6], Change::Comment(_)));

    // The newly excluded column was purged from all history; the dropped one was kept.
    let mut count = |sql: &str| -> i64 { client.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(
        count(
            "SELECT count(*) FROM audit.activity
              WHERE old_data ? 'secret' OR changed_data ? 'secret'"
        ),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM audit.activity WHERE changed_data ? 'legacy'"),
        2
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM audit.activity WHERE old_data ? 'title' OR changed_data ? 'title'"
        ),
        0
    );
}

/// Replays both generations from `steps/` in a scratch directory: the output must be the
/// committed migrations and lock, byte for byte.
#[test]
fn committed_migrations_are_exactly_what_the_generator_writes() {
    let scratch = std::env::temp_dir().join(format!("audit-evolution-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("migrations")).unwrap();
    let steps = crate_dir().join("steps");
    let generate = |manifest: &Path| {
        std::fs::copy(manifest, scratch.join("audit.toml")).unwrap();
        generate_in(&scratch);
    };
    std::fs::copy(
        steps.join("v1_create.sql"),
        scratch.join("migrations/V1__create.sql"),
    )
    .unwrap();
    generate(&steps.join("audit-v1.toml"));
    std::fs::copy(
        steps.join("v2_evolve.sql"),
        scratch.join("migrations/V5__evolve.sql"),
    )
    .unwrap();
    generate(&crate_dir().join("audit.toml"));

    let read = |dir: &Path| -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir.join("migrations"))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&path).unwrap(),
                )
            })
            .collect();
        files.push((
            "audit.lock".into(),
            std::fs::read_to_string(dir.join("audit.lock")).unwrap(),
        ));
        files.sort();
        files
    };
    let produced = read(&scratch);
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        let target = crate_dir();
        std::fs::remove_dir_all(target.join("migrations")).unwrap();
        std::fs::create_dir_all(target.join("migrations")).unwrap();
        for (name, text) in &produced {
            let path = if name == "audit.lock" {
                target.join(name)
            } else {
                target.join("migrations").join(name)
            };
            std::fs::write(path, text).unwrap();
        }
    }
    let committed = read(&crate_dir());
    std::fs::remove_dir_all(&scratch).unwrap();
    assert_eq!(
        produced.iter().map(|f| &f.0).collect::<Vec<_>>(),
        committed.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, produced), (_, committed)) in produced.iter().zip(&committed) {
        assert!(
            produced == committed,
            "{name} differs from what the generator writes (UPDATE_FIXTURES=1 rewrites it)"
        );
    }
}

fn generate_in(dir: &Path) {
    audit_codegen::Config::new()
        .manifest(dir.join("audit.toml"))
        .cargo_output(false)
        .check(false)
        .write_migrations(true)
        .generate()
        .unwrap();
}
