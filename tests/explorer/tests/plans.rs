//! No explorer page scans `activity` or `transaction` sequentially: on 200,000 analyzed
//! activity rows, every page (each filter, a deep page, a record, an actor, a
//! transaction) is served through indexes, as PostgreSQL's own statistics count it.

#[path = "../../history/tests/common/bulk.rs"]
mod bulk;
#[path = "../../history/spec.rs"]
mod spec;

use audit_explorer_check::audit::Change;
use audit_explorer_check::serve;
use audit_runtime::explorer::Explorer;
use audit_tests::TestDb;
use axum::Router;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` over a plain socket: the status code and body.
async fn get(server: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(server)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("receive");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// Sequential and index scans of `audit.activity` and `audit.transaction` so far, once
/// every other session of the database has ended (and so reported its statistics).
fn scans(client: &mut postgres::Client) -> [i64; 4] {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let others: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        if others == 0 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    client
        .batch_execute("SELECT pg_stat_clear_snapshot()")
        .unwrap();
    let row = client
        .query_one(
            "SELECT (SELECT seq_scan FROM pg_stat_user_tables
                      WHERE schemaname = 'audit' AND relname = 'activity'),
                    (SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables
                      WHERE schemaname = 'audit' AND relname = 'activity'),
                    (SELECT seq_scan FROM pg_stat_user_tables
                      WHERE schemaname = 'audit' AND relname = 'transaction'),
                    (SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables
                      WHERE schemaname = 'audit' AND relname = 'transaction')",
            &[],
        )
        .unwrap();
    [row.get(0), row.get(1), row.get(2), row.get(3)]
}

#[test]
fn every_page_is_served_by_indexes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    let sql = std::fs::read_to_string(dir.join("fixtures/schema.sql")).expect("schema.sql");
    let db = TestDb::with_sql("explorer_plans", &sql);
    audit_tests::install_audit(&db, &spec::history(spec::snapshot(&dir)));
    bulk::fill(&mut db.client(), &bulk::Shape { rows: 200_000 });
    let mut stats = db.client();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = db.url().to_owned();
    let server = runtime.block_on(async move {
        // A connection per page: it ends with the page, which reports its statistics.
        let explorer = Explorer::<Change>::builder()
            .connect(move || {
                let url = url.clone();
                async move {
                    let (client, connection) =
                        tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                    tokio::spawn(connection);
                    Ok::<_, tokio_postgres::Error>(Box::new(client))
                }
            })
            .authorize(|_, _| true)
            .build()
            .unwrap();
        serve(Router::new().nest("/audit", explorer)).await
    });
    for page in [
        "/audit/table/public/article",
        "/audit/table/public/article?before=1000",
        "/audit/table/public/article?after=150000",
        "/audit/table/public/article?verb=insert",
        "/audit/table/public/article?verb=update&from=2026-02-01&to=2026-02-01",
        "/audit/table/public/article?verb=delete&from=2026-01-01&to=2026-04-30",
        "/audit/table/public/article?from=2026-01-01&to=2026-04-30",
        "/audit/table/public/article?verb=update&to=2026-02-01",
        "/audit/table/public/article?from=2026-03-01",
        "/audit/table/public/article?actor=actor-7",
        "/audit/table/public/article?actor=actor-7&verb=update&before=100000",
        "/audit/table/public/tag_link",
        "/audit/table/public/article?verb=delete",
        "/audit/table/public/article/record?key=500",
        "/audit/actor/actor-7",
        "/audit/actor/actor-7?from=2026-01-10&to=2026-01-20",
        "/audit/actor/actor-7?before=2026-03-01T00:00:00Z~9000",
        "/audit/transaction/1234",
        "/audit/transaction/1234?after=6000",
    ] {
        let before = scans(&mut stats);
        let (status, body) = runtime.block_on(get(server, page));
        assert_eq!(status, 200, "{page}: {body}");
        let after = scans(&mut stats);
        assert_eq!(after[0], before[0], "{page} scanned activity sequentially");
        assert_eq!(
            after[2], before[2],
            "{page} scanned transaction sequentially"
        );
        assert!(
            after[1] > before[1],
            "{page} used no index of activity (stats not reported?)"
        );
    }
}
