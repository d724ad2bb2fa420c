//! Pool safety: on one pooled connection, transactions with and without a context
//! alternate; every activity carries the actor of its own transaction and context-less
//! ones carry none, also right after a transaction whose context was rolled back.

mod common;

use audit_history_check::{ArticleChange, ArticleKey};
use audit_runtime::AuditContext;
use audit_runtime::query;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::net::IpAddr;

/// What iteration `i` does, and so which actor its insert must carry.
fn actor_of(i: i32) -> Option<String> {
    (i % 3 == 0).then(|| format!("actor-{i}"))
}

#[test]
fn the_context_never_outlives_its_transaction_on_a_pooled_connection() {
    let db = common::database("history_pool");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pids = runtime.block_on(async {
        let config: tokio_postgres::Config = db.url().parse().unwrap();
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(1).build().unwrap();
        let mut pids = Vec::new();
        for i in 0..30 {
            let mut client = pool.get().await.unwrap();
            pids.push(
                client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await
                    .unwrap()
                    .get::<_, i32>(0),
            );
            if i % 3 == 2 {
                // A context set and then rolled back with its changes leaves nothing,
                // and does not reach the next transaction either.
                let tx = client.transaction().await.unwrap();
                AuditContext::new()
                    .actor_id("rolled-back")
                    .apply_async(&tx)
                    .await
                    .unwrap();
                tx.execute("INSERT INTO article (id, title) VALUES ($1, 'x')", &[&i])
                    .await
                    .unwrap();
                tx.rollback().await.unwrap();
            }
            let tx = client.transaction().await.unwrap();
            if let Some(actor) = actor_of(i) {
                AuditContext::new()
                    .actor_id(&actor)
                    .client_addr(IpAddr::from([10, 0, 0, i as u8]))
                    .apply_async(&tx)
                    .await
                    .unwrap();
            }
            tx.execute("INSERT INTO article (id, title) VALUES ($1, 'x')", &[&i])
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        pids
    });
    assert!(
        pids.windows(2).all(|w| w[0] == w[1]),
        "one connection served every transaction"
    );

    let mut client = db.client();
    for i in 0..30 {
        let history = query::history::<ArticleChange>(&mut client, &ArticleKey { id: i }).unwrap();
        assert_eq!(history.len(), 1, "article {i}: {history:#?}");
        let entry = &history[0];
        assert_eq!(
            entry.actor_id().map(str::to_owned),
            actor_of(i),
            "article {i}"
        );
        match actor_of(i) {
            Some(_) => assert_eq!(entry.client_addr(), Some(IpAddr::from([10, 0, 0, i as u8]))),
            None => assert!(entry.transaction.is_none(), "article {i}: {entry:?}"),
        }
    }
    let transactions: i64 = client
        .query_one("SELECT count(*) FROM audit.transaction", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        transactions, 10,
        "one transaction row per transaction with a context"
    );
}
