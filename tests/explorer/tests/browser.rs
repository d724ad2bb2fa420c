//! The audit explorer in a real headless chromium: a person's path through the pages
//! (record → actor → transaction), filters and pagination, hostile history rendered
//! inert, and nothing shown without authorization.

#[path = "../../history/spec.rs"]
mod spec;

use audit_explorer_check::audit::Change;
use audit_explorer_check::{Browser, serve};
use audit_runtime::explorer::{BuildError, Explorer};
use audit_tests::TestDb;
use axum::Router;
use axum::extract::{Path, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fantoccini::Locator;
use std::net::SocketAddr;
use std::path::Path as FsPath;
use std::sync::Arc;

/// A test database with the history schema and its audit trail installed, and the
/// history of `script` recorded.
fn database(label: &str, script: &str) -> TestDb {
    let dir = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    let sql = std::fs::read_to_string(dir.join("fixtures/schema.sql")).expect("schema.sql");
    let db = TestDb::with_sql(label, &sql);
    audit_tests::install_audit(&db, &spec::history(spec::snapshot(&dir)));
    db.client().batch_execute(script).expect("record history");
    db
}

/// The history every test starts from. Article 1 is created by alice (with a tag), edited
/// by bob, then given the key 10 by bob; twelve tags are added by carol one at a time.
fn story() -> String {
    let mut sql = STORY.to_owned();
    for i in 1..=12 {
        sql.push_str(&format!(
            "BEGIN; SELECT audit.set_context('carol', NULL, NULL); \
             INSERT INTO tag_link VALUES (10, 'tag-{i:02}', {i}); COMMIT;\n"
        ));
    }
    sql
}

const STORY: &str = "
BEGIN;
SELECT audit.set_context('alice', '203.0.113.7', '{\"reason\": \"launch\"}');
INSERT INTO article (id, title, body, rating, price, published_at)
    VALUES (1, 'Hello', 'First body', 3, 9.99, '2026-05-01 10:00:00+00');
INSERT INTO tag_link VALUES (1, 'news', 1);
COMMIT;
BEGIN;
SELECT audit.set_context('bob', '198.51.100.2', '{\"ticket\": 42}');
UPDATE article SET title = 'Hello, world', rating = 4 WHERE id = 1;
COMMIT;
BEGIN;
SELECT audit.set_context('bob', NULL, NULL);
UPDATE article SET id = 10 WHERE id = 1;
COMMIT;
";

/// Hostile values in every place a value is shown: markup, attribute breakouts,
/// `javascript:` URLs, a right-to-left override, in data, actor ids and context.
const HOSTILE: &str = "
BEGIN;
SELECT audit.set_context('\"onload=\"window.pwned=6', NULL,
    '{\"note\": \"<script>window.pwned = 3</script>\", \"link\": \"javascript:window.pwned=7\"}');
INSERT INTO article (id, title, body)
    VALUES (2, '<script>window.pwned = 1</script>',
            '\"><img src=x onerror=\"window.pwned = 2\"> ' || E'\\u202Egnp.exe');
COMMIT;
BEGIN;
SELECT audit.set_context('javascript:window.pwned=4', NULL, NULL);
UPDATE article SET title = '<img src=x onerror=window.pwned=5>' WHERE id = 2;
COMMIT;
";

/// Who is logged in, as the application's authentication layer knows it.
#[derive(Clone)]
struct User {
    admin: bool,
}

/// A stand-in authentication layer: the cookie `user=NAME` logs in as NAME; `admin` may
/// see every table, anyone else all but `tag_link`.
async fn authenticate(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("user=").map(str::to_owned));
    if let Some(name) = user {
        request.extensions_mut().insert(User {
            admin: name == "admin",
        });
    }
    next.run(request).await
}

async fn login(Path(name): Path<String>) -> Response {
    (
        [
            ("set-cookie", format!("user={name}; Path=/")),
            ("location", "/audit".to_owned()),
        ],
        axum::http::StatusCode::SEE_OTHER,
    )
        .into_response()
}

/// The application: the explorer under `/audit`, behind the authentication layer.
async fn app(db: &TestDb) -> SocketAddr {
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let explorer = Explorer::<Change>::builder()
        .client(Arc::new(client))
        .page_size(5)
        .authorize(|request, table| {
            request
                .extensions
                .get::<User>()
                .is_some_and(|u| u.admin || table.name() != "tag_link")
        })
        .build()
        .expect("explorer");
    let app = Router::new()
        .nest("/audit", explorer)
        .route("/login/{name}", get(login))
        .layer(middleware::from_fn(authenticate));
    serve(app).await
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `text` with every run of whitespace (newlines and tabs between cells included) made
/// one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The visible texts of the elements `css` selects.
async fn texts(b: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in b.client.find_all(Locator::Css(css)).await.expect("find") {
        out.push(collapse(&e.text().await.expect("text")));
    }
    out
}

/// The verbs of the changes shown, in order.
async fn verbs(b: &Browser) -> Vec<String> {
    texts(b, ".change .verb")
        .await
        .into_iter()
        .map(|v| v.to_lowercase())
        .collect()
}

/// The visible text of the first element `css` selects.
async fn text(b: &Browser, css: &str) -> String {
    let element = b
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    collapse(&element.text().await.expect("text"))
}

async fn click(b: &Browser, css: &str) {
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

async fn path(b: &Browser) -> String {
    let url = b.client.current_url().await.expect("url");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

#[test]
fn a_person_follows_a_record_to_its_actor_and_transaction_filters_and_pages() {
    let db = database("explorer_walk", &story());
    runtime().block_on(async {
        let server = app(&db).await;
        let b = Browser::start(1280, 900).await;
        let root = format!("http://{server}");
        b.client.goto(&format!("{root}/login/admin")).await.unwrap();
        assert_eq!(path(&b).await, "/audit");
        assert_eq!(texts(&b, "ul.tables a").await, ["article", "tag_link"]);

        // The table page: three activities of article, newest first.
        click(&b, "ul.tables li:first-child a").await;
        assert_eq!(path(&b).await, "/audit/table/public/article");
        assert_eq!(verbs(&b).await, ["update", "update", "insert"]);

        // Record 10's history follows its key back to 1.
        click(&b, ".change:first-child a.key").await;
        assert_eq!(path(&b).await, "/audit/table/public/article/record?key=10");
        assert_eq!(text(&b, "p.count").await, "3 changes, newest first.");
        assert_eq!(verbs(&b).await, ["update", "update", "insert"]);
        assert_eq!(
            text(&b, ".change:nth-child(1) .rekey").await,
            "Key changed from 1"
        );
        let diff = texts(&b, ".change:nth-child(2) table.diff tbody tr").await;
        assert_eq!(diff, ["title Hello Hello, world", "rating 3 4"]);
        let inserted = texts(&b, ".change:nth-child(3) table.diff tbody th").await;
        assert_eq!(
            inserted,
            ["id", "title", "body", "rating", "price", "published_at"]
        );
        assert_eq!(
            text(&b, ".change:nth-child(3) .meta").await,
            "by alice from 203.0.113.7 transaction #1 context {\"reason\": \"launch\"}"
        );

        // Times are rendered in UTC; the viewer may switch to their own zone (the
        // browser's, UTC+05:30 here), which the browser remembers.
        let when = ".change:nth-child(1) a.when time";
        let utc = text(&b, when).await;
        assert!(utc.ends_with(" UTC"), "{utc}");
        click(&b, "#zone").await;
        let local = text(&b, when).await;
        assert!(local.ends_with(" +05:30") && local != utc, "{local}");
        b.client.refresh().await.unwrap();
        assert_eq!(text(&b, when).await, local);
        click(&b, "#zone").await;
        assert_eq!(text(&b, when).await, utc);

        // The actor: bob's two transactions, newest first.
        click(&b, ".change:nth-child(2) a.actor").await;
        assert_eq!(path(&b).await, "/audit/actor/bob");
        assert_eq!(text(&b, "h1 code.actor").await, "bob");
        assert_eq!(
            texts(&b, ".group h2").await,
            ["Transaction #3", "Transaction #2"]
        );
        assert_eq!(texts(&b, ".group .count").await, ["1 change", "1 change"]);

        // The transaction that edited the title, with its context.
        click(&b, ".group:nth-of-type(2) h2 a").await;
        assert_eq!(path(&b).await, "/audit/transaction/2");
        assert!(text(&b, ".tx-meta").await.contains("\"ticket\": 42"));
        assert_eq!(text(&b, ".tx-meta a.actor").await, "bob");
        assert_eq!(verbs(&b).await, ["update"]);

        // Filter the table page by verb with its form.
        b.client
            .goto(&format!("{root}/audit/table/public/article"))
            .await
            .unwrap();
        b.client
            .find(Locator::Css("select[name=verb]"))
            .await
            .unwrap()
            .select_by_value("insert")
            .await
            .unwrap();
        click(&b, "form.filters button").await;
        let filtered = format!("{root}/audit/table/public/article?verb=insert&actor=&from=&to=");
        b.client
            .wait()
            .for_url(&filtered.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            path(&b).await,
            "/audit/table/public/article?verb=insert&actor=&from=&to="
        );
        assert_eq!(verbs(&b).await, ["insert"]);
        // And by actor, with nothing found: the empty state says what to do.
        b.client
            .goto(&format!("{root}/audit/table/public/article?actor=nobody"))
            .await
            .unwrap();
        assert_eq!(
            text(&b, ".empty h2").await,
            "No activity matches these filters"
        );

        // Pages of tag_link: 13 activities, 5 a page.
        b.client
            .goto(&format!("{root}/audit/table/public/tag_link"))
            .await
            .unwrap();
        let first = texts(&b, ".change a.key").await;
        assert_eq!(first.len(), 5);
        assert_eq!(first[0], "[10, \"tag-12\"]");
        assert!(b.client.find(Locator::Css("a[rel=prev]")).await.is_err());
        click(&b, "a[rel=next]").await;
        let second = texts(&b, ".change a.key").await;
        assert_eq!(second[0], "[10, \"tag-07\"]");
        click(&b, "a[rel=next]").await;
        let third = texts(&b, ".change a.key").await;
        assert_eq!(
            third,
            ["[10, \"tag-02\"]", "[10, \"tag-01\"]", "[1, \"news\"]"]
        );
        assert!(b.client.find(Locator::Css("a[rel=next]")).await.is_err());
        click(&b, "a[rel=prev]").await;
        assert_eq!(texts(&b, ".change a.key").await, second);
        click(&b, "a[rel=first]").await;
        assert_eq!(texts(&b, ".change a.key").await, first);
        b.close().await;
    });
}

#[test]
fn hostile_history_renders_inert() {
    let db = database("explorer_hostile", HOSTILE);
    runtime().block_on(async {
        let server = app(&db).await;
        let b = Browser::start(1280, 900).await;
        let root = format!("http://{server}");
        b.client.goto(&format!("{root}/login/admin")).await.unwrap();
        for page in [
            "/audit/table/public/article/record?key=2",
            "/audit/table/public/article",
            "/audit/transaction/1",
            "/audit/actor/%22onload%3D%22window.pwned%3D6",
        ] {
            b.client.goto(&format!("{root}{page}")).await.unwrap();
            let pwned = b
                .client
                .execute("return typeof window.pwned", vec![])
                .await
                .unwrap();
            assert_eq!(pwned, "undefined", "a script ran on {page}");
            assert!(
                b.client.get_alert_text().await.is_err(),
                "an alert on {page}"
            );
            let injected = b
                .client
                .execute(
                    "return document.querySelectorAll('main img, main script, main iframe, \
                     [onload], [onerror], [onclick]').length",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(injected, 0, "markup from history became elements on {page}");
            let hrefs = b
                .client
                .execute(
                    "return Array.from(document.querySelectorAll('a[href]'), a => a.href)",
                    vec![],
                )
                .await
                .unwrap();
            for href in hrefs.as_array().unwrap() {
                let href = href.as_str().unwrap();
                assert!(
                    href.starts_with(&root),
                    "{href} leaves the explorer on {page}"
                );
            }
        }

        b.client
            .goto(&format!("{root}/audit/table/public/article/record?key=2"))
            .await
            .unwrap();
        let values = texts(&b, "table.diff td").await;
        assert!(
            values.contains(&"<script>window.pwned = 1</script>".to_owned()),
            "{values:?}"
        );
        assert!(
            values.contains(&"<img src=x onerror=window.pwned=5>".to_owned()),
            "{values:?}"
        );
        // The right-to-left override is shown, not obeyed.
        assert!(
            values.iter().any(|v| v.ends_with("U+202Egnp.exe")),
            "{values:?}"
        );
        let actors = texts(&b, "a.actor").await;
        assert_eq!(
            actors,
            ["javascript:window.pwned=4", "\"onload=\"window.pwned=6"]
        );
        let attributes = b
            .client
            .execute(
                "return Array.from(document.querySelectorAll('a.actor'), \
                 a => a.getAttributeNames().join(' '))",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(attributes, serde_json::json!(["class href", "class href"]));
        let href = b
            .client
            .find(Locator::Css("a.actor"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap();
        assert_eq!(
            href.as_deref(),
            Some("/audit/actor/javascript%3Awindow.pwned%3D4")
        );
        b.close().await;
    });
}

#[test]
fn without_authorization_nothing_is_shown() {
    let db = database("explorer_denied", &story());
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let refused = Explorer::<Change>::builder()
            .client(Arc::new(client))
            .build()
            .err();
        assert_eq!(refused, Some(BuildError::NoAuthorization));

        let server = app(&db).await;
        let b = Browser::start(1280, 900).await;
        let root = format!("http://{server}");
        // Not logged in: nothing at all.
        b.client.goto(&format!("{root}/audit")).await.unwrap();
        assert_eq!(text(&b, ".empty h2").await, "No history to show you");
        for (page, heading) in [
            ("/audit/table/public/article", "Not allowed"),
            ("/audit/table/public/article/record?key=10", "Not allowed"),
            ("/audit/transaction/1", "Nothing to show"),
            ("/audit/table/public/nosuch", "Nothing to show"),
            ("/audit/actor/alice", "No activity to show"),
        ] {
            b.client.goto(&format!("{root}{page}")).await.unwrap();
            assert_eq!(
                text(&b, ".empty h1, .empty h2").await,
                heading,
                "{page}: {}",
                text(&b, "main").await
            );
            let source = b.client.source().await.unwrap();
            for secret in ["Hello", "203.0.113.7", "launch", "news", "Transaction #"] {
                assert!(!source.contains(secret), "{page} shows {secret}");
            }
            assert!(
                b.client.find(Locator::Css(".change")).await.is_err(),
                "{page}"
            );
        }

        // A viewer who may see article but not tag_link: alice's transaction shows the
        // article only.
        b.client
            .goto(&format!("{root}/login/viewer"))
            .await
            .unwrap();
        assert_eq!(texts(&b, "ul.tables a").await, ["article"]);
        b.client
            .goto(&format!("{root}/audit/transaction/1"))
            .await
            .unwrap();
        assert_eq!(texts(&b, ".change a.table").await, ["article"]);
        b.client
            .goto(&format!("{root}/audit/actor/carol"))
            .await
            .unwrap();
        assert_eq!(text(&b, ".empty h2").await, "No activity to show");
        b.client
            .goto(&format!("{root}/audit/table/public/tag_link"))
            .await
            .unwrap();
        assert_eq!(text(&b, "main h1").await, "Not allowed");
        b.close().await;
    });
}
