//! Uses the packaged crates end to end: applies the migrations that build.rs generated
//! into a throw-away database on `DATABASE_URL`, makes audited changes with an actor set,
//! reads the activity rows back and decodes them into the generated `ArticleChange`,
//! checking every value. Exits non-zero on any mismatch; the database is dropped either
//! way.

use audit_runtime::{Activity, AuditContext, Verb};
use postgres::{Client, NoTls};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The typed code that build.rs generated from audit.toml and schema.sql.
mod audit {
    #![allow(dead_code)]
    audit_runtime::include_audit!();
}

use audit::{Article, ArticleChange, ArticleKey, ArticlePatch, Change};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    match run(&url) {
        Ok(()) => {
            println!("package-smoke: 1 passed, 0 failed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("package smoke test failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A database of its own, dropped when this value is.
struct ThrowAwayDb {
    admin: Client,
    name: String,
}

impl Drop for ThrowAwayDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(error) = self.admin.batch_execute(&sql) {
            eprintln!("could not drop database {}: {error}", self.name);
        }
    }
}

fn run(url: &str) -> Result<(), Error> {
    let mut admin = Client::connect(url, NoTls)
        .map_err(|e| format!("cannot reach PostgreSQL at {url}: {e}"))?;
    let name = format!("audit_package_smoke_{}", std::process::id());
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let db = ThrowAwayDb { admin, name };
    let db_url = with_database(url, &db.name);

    // The application's own schema (the pg_dump file the code was generated from); it
    // empties the session's search_path, so it gets a connection of its own.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut setup = Client::connect(&db_url, NoTls)?;
    setup.batch_execute(&std::fs::read_to_string(manifest_dir.join("schema.sql"))?)?;
    drop(setup);

    let mut client = Client::connect(&db_url, NoTls)?;
    let migrations = migrations(&manifest_dir.join("migrations"))?;
    if migrations.len() < 2 {
        return Err(
            format!("expected the schema and table migrations, found {migrations:?}").into(),
        );
    }
    for file in &migrations {
        client
            .batch_execute(&std::fs::read_to_string(file)?)
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }

    // One audited insert and one audited update, each by actor 42.
    let context = AuditContext::new()
        .actor_id(42)
        .client_addr("203.0.113.7".parse()?);
    let mut tx = client.transaction()?;
    context.apply(&mut tx)?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO public.article (title, rating) VALUES ('First', NULL) RETURNING id",
            &[],
        )?
        .get(0);
    tx.commit()?;
    let mut tx = client.transaction()?;
    context.apply(&mut tx)?;
    tx.execute(
        "UPDATE public.article SET title = 'Second', rating = 5, updated_at = now() WHERE id = $1",
        &[&id],
    )?;
    tx.commit()?;

    // Read the activity rows back and decode them.
    let rows = client.query("SELECT * FROM audit.activity ORDER BY id", &[])?;
    let activities = rows
        .iter()
        .map(Activity::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    check(activities.len() == 2, || {
        format!("2 activity rows, found {activities:?}")
    })?;
    check(activities[0].verb == Verb::Insert, || {
        format!("an insert first: {:?}", activities[0])
    })?;
    check(activities[1].verb == Verb::Update, || {
        format!("an update second: {:?}", activities[1])
    })?;

    let first = Article {
        id,
        title: "First".into(),
        rating: None,
    };
    let inserted = ArticleChange::try_from(&activities[0])?;
    check(
        inserted == ArticleChange::Insert { new: first.clone() },
        || format!("the insert decoded as {inserted:?}"),
    )?;
    let updated = ArticleChange::try_from(&activities[1])?;
    let changed = ArticlePatch {
        id: None,
        title: Some("Second".into()),
        rating: Some(Some(5)),
    };
    check(
        updated
            == ArticleChange::Update {
                old: first,
                changed,
            },
        || format!("the update decoded as {updated:?}"),
    )?;
    let any = Change::try_from(&activities[1])?;
    check(any == Change::Article(updated.clone()), || {
        format!("Change decoded as {any:?}")
    })?;

    // The history query, with the actor of each change.
    let history = audit_runtime::query::history::<ArticleChange>(&mut client, &ArticleKey { id })?;
    let seen: Vec<_> = history.iter().map(|e| (e.actor_id(), &e.change)).collect();
    check(
        seen == [(Some("42"), &inserted), (Some("42"), &updated)],
        || format!("history of article {id}: {seen:?}"),
    )?;

    drop(client);
    drop(db);
    Ok(())
}

/// Fails with `what` (what was expected, and what was found) unless `ok`.
fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(format!("expected {}", what()).into())
    }
}

/// The `.sql` files of `dir` in the order of their leading version number.
fn migrations(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let version: String = name.chars().take_while(char::is_ascii_digit).collect();
        if let (Ok(version), true) = (version.parse::<u64>(), name.ends_with(".sql")) {
            files.push((version, path));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, path)| path).collect())
}

/// Replaces the database part of a `postgres://…/db?params` URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}
