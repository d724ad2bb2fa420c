//! Time to serve each explorer page (query, render, HTTP on loopback) on 1,000,000
//! activity rows: p50 / p99 over many random instances, against the target of 50 ms p50.
//!
//! `cargo bench -p audit-explorer-check --bench pages` (set `BENCH_ROWS` for another
//! size, `BENCH_RUNS` for another number of runs per page). The history is
//! bulk-inserted with `INSERT … SELECT generate_series` (as `tests/history`'s
//! benchmark does), then analyzed.

#[path = "../../history/tests/common/bulk.rs"]
mod bulk;
#[path = "../../history/spec.rs"]
mod spec;

use audit_explorer_check::audit::Change;
use audit_explorer_check::serve;
use audit_runtime::explorer::Explorer;
use audit_tests::TestDb;
use audit_tests::rng::Rng;
use axum::Router;
use bulk::Shape;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The target: every page's median below this.
const TARGET: Duration = Duration::from_millis(50);

/// `GET path`: the response's size; panics unless it is a 200.
async fn get(server: SocketAddr, path: &str) -> usize {
    let mut stream = tokio::net::TcpStream::connect(server)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("receive");
    assert!(
        response.starts_with(b"HTTP/1.1 200"),
        "{path}: {}",
        String::from_utf8_lossy(&response[..response.len().min(2000)])
    );
    response.len()
}

fn main() {
    let env = |name: &str, default: i64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rows = env("BENCH_ROWS", 1_000_000);
    let runs = env("BENCH_RUNS", 300) as usize;
    let shape = Shape { rows };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../history");
    let sql = std::fs::read_to_string(dir.join("fixtures/schema.sql")).expect("schema.sql");
    let db = TestDb::with_sql("explorer_bench", &sql);
    audit_tests::install_audit(&db, &spec::history(spec::snapshot(&dir)));
    let started = Instant::now();
    bulk::fill(&mut db.client(), &shape);
    println!(
        "filled {rows} activity rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = db.url().to_owned();
    let server = runtime.block_on(async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let explorer = Explorer::<Change>::builder()
            .client(Arc::new(client))
            .authorize(|_, _| true)
            .build()
            .unwrap();
        serve(Router::new().nest("/audit", explorer)).await
    });

    let records = shape.records();
    let transactions = (rows + 4) / 5;
    let day = |rng: &mut Rng| {
        let d = rng.below(Shape::DAYS - 8);
        format!("2026-{:02}-{:02}", 1 + d / 28, 1 + d % 28)
    };
    type Page = Box<dyn Fn(&mut Rng) -> String>;
    let pages: Vec<(&str, Page)> = vec![
        (
            "table, newest",
            Box::new(|_| "/audit/table/public/article".into()),
        ),
        (
            "table, a deep page",
            Box::new(move |rng| {
                format!("/audit/table/public/article?before={}", 1 + rng.below(rows))
            }),
        ),
        (
            "table, by verb",
            Box::new(move |rng| {
                format!(
                    "/audit/table/public/article?verb=insert&before={}",
                    1 + rng.below(rows)
                )
            }),
        ),
        (
            "table, by verb and day",
            Box::new(move |rng| {
                let d = day(rng);
                format!("/audit/table/public/article?verb=update&from={d}&to={d}")
            }),
        ),
        (
            "table, by actor",
            Box::new(|rng| {
                format!(
                    "/audit/table/public/article?actor=actor-{}",
                    rng.below(Shape::ACTORS)
                )
            }),
        ),
        (
            "record history",
            Box::new(move |rng| {
                format!(
                    "/audit/table/public/article/record?key={}",
                    rng.below(records)
                )
            }),
        ),
        (
            "actor, all time",
            Box::new(|rng| format!("/audit/actor/actor-{}", rng.below(Shape::ACTORS))),
        ),
        (
            "actor, a week",
            Box::new(move |rng| {
                let d = day(rng);
                format!("/audit/actor/actor-{}?from={d}", rng.below(Shape::ACTORS))
            }),
        ),
        (
            "transaction",
            Box::new(move |rng| {
                // Every fifth transaction has no context, hence no row: skip those ids.
                let mut id = 1 + rng.below(transactions);
                if id % 5 == 0 {
                    id -= 1;
                }
                format!("/audit/transaction/{}", id.max(1))
            }),
        ),
    ];
    let mut rng = Rng::new();
    let mut failed = Vec::new();
    for (name, page) in &pages {
        for _ in 0..runs / 10 {
            runtime.block_on(get(server, &page(&mut rng)));
        }
        let mut times = Vec::with_capacity(runs);
        let mut bytes = 0;
        for _ in 0..runs {
            let path = page(&mut rng);
            let started = Instant::now();
            bytes += runtime.block_on(get(server, &path));
            times.push(started.elapsed());
        }
        times.sort();
        let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        println!(
            "{name:<24} p50 {:>7.2} ms   p99 {:>7.2} ms   ({} KiB on average)",
            at(0.50).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            bytes / runs / 1024
        );
        if at(0.50) >= TARGET {
            failed.push(*name);
        }
    }
    if failed.is_empty() {
        println!("every page's p50 is below {} ms", TARGET.as_millis());
    } else {
        println!(
            "above the {} ms p50 target: {}",
            TARGET.as_millis(),
            failed.join(", ")
        );
        std::process::exit(1);
    }
}
