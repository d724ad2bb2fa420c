//! Per driver: set a context, write, and read typed history back with the right actor,
//! client address and extra values.

mod common;

use audit_history_check::{Article, ArticleChange, ArticleKey, Change, TagLinkChange, TagLinkKey};
use audit_runtime::query::{self, TimeRange};
use audit_runtime::{AuditContext, Entry, Verb};
use chrono::{Duration, Utc};
use std::net::IpAddr;

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A range around now, wide enough for the test's transactions.
fn around_now() -> TimeRange {
    let now = Utc::now();
    TimeRange::new(now - Duration::hours(1), now + Duration::hours(1))
}

/// The insert-then-update history of article 1 written by `actor` from `from`.
fn check_article_history(history: &[Entry<ArticleChange>], actor: &str, from: &str) {
    assert_eq!(history.len(), 2, "{history:#?}");
    for entry in history {
        assert_eq!(entry.actor_id(), Some(actor));
        assert_eq!(entry.client_addr(), Some(addr(from)));
        assert_eq!(
            entry.context(),
            Some(&serde_json::json!({"reason": "test"}))
        );
        assert!(entry.transaction_issued_at().unwrap() <= entry.issued_at);
    }
    let ArticleChange::Insert { new } = &history[0].change else {
        panic!("expected an insert: {:?}", history[0].change);
    };
    assert_eq!(new.title, "Draft");
    let ArticleChange::Update { old, changed } = &history[1].change else {
        panic!("expected an update: {:?}", history[1].change);
    };
    assert_eq!(old.title, "Draft");
    assert_eq!(changed.title.as_deref(), Some("Final"));
    assert_eq!(changed.body, None, "body unchanged");
    assert_eq!(history[1].verb, Verb::Update);
}

const WRITE: &str = "INSERT INTO article (id, title) VALUES (1, 'Draft');
                     UPDATE article SET title = 'Final' WHERE id = 1;
                     INSERT INTO tag_link VALUES (1, 'rust', 3);";

#[test]
fn postgres_context_reads_back_as_typed_history() {
    let db = common::database("history_postgres");
    let mut client = db.client();
    let context = AuditContext::new()
        .actor_id("alice")
        .client_addr(addr("203.0.113.7"))
        .value("reason", "test");
    context
        .transaction(&mut client, |tx| tx.batch_execute(WRITE))
        .unwrap();
    // A change without context: in history, with no actor.
    client
        .batch_execute("UPDATE article SET body = 'text' WHERE id = 1")
        .unwrap();

    let history = query::history::<ArticleChange>(&mut client, &ArticleKey { id: 1 }).unwrap();
    check_article_history(&history[..2], "alice", "203.0.113.7");
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].transaction, None);

    let links = query::history::<TagLinkChange>(
        &mut client,
        &TagLinkKey {
            article_id: 1,
            tag: "rust".into(),
        },
    )
    .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].actor_id(), Some("alice"));

    let by_alice = query::actor_activity::<Change>(&mut client, "alice", around_now()).unwrap();
    assert_eq!(by_alice.len(), 3);
    assert!(matches!(
        by_alice[0].change,
        Change::Article(ArticleChange::Insert { .. })
    ));
    assert!(matches!(
        by_alice[2].change,
        Change::TagLink(TagLinkChange::Insert { .. })
    ));
    assert!(
        query::actor_activity::<Change>(&mut client, "bob", around_now())
            .unwrap()
            .is_empty()
    );

    let today = TimeRange::utc_day(Utc::now().date_naive());
    let who =
        query::changed_in::<ArticleChange>(&mut client, &ArticleKey { id: 1 }, today).unwrap();
    assert_eq!(who.len(), 3);
    let yesterday = TimeRange::utc_day(Utc::now().date_naive() - chrono::Days::new(1));
    assert!(
        query::changed_in::<ArticleChange>(&mut client, &ArticleKey { id: 1 }, yesterday)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn history_follows_primary_key_changes() {
    let db = common::database("history_key_change");
    let mut client = db.client();
    client
        .batch_execute(
            "INSERT INTO article (id, title) VALUES (1, 'one'), (2, 'two');
             DELETE FROM article WHERE id = 2;
             UPDATE article SET id = 2 WHERE id = 1;
             UPDATE article SET title = 'two now' WHERE id = 2;
             INSERT INTO tag_link VALUES (1, 'a', NULL);
             UPDATE tag_link SET tag = 'b';
             UPDATE tag_link SET article_id = 2;",
        )
        .unwrap();
    let history = query::history::<ArticleChange>(&mut client, &ArticleKey { id: 2 }).unwrap();
    let titles: Vec<Option<Article>> = history.iter().map(|e| e.change.new_row()).collect();
    assert_eq!(
        titles
            .iter()
            .map(|r| r.as_ref().map(|r| (r.id, r.title.as_str())))
            .collect::<Vec<_>>(),
        [Some((1, "one")), Some((2, "one")), Some((2, "two now"))],
        "the earlier record with key 2 (deleted) is not part of this record's history"
    );
    let links = query::history::<TagLinkChange>(
        &mut client,
        &TagLinkKey {
            article_id: 2,
            tag: "b".into(),
        },
    )
    .unwrap();
    assert_eq!(
        links.iter().map(|e| e.verb).collect::<Vec<_>>(),
        [Verb::Insert, Verb::Update, Verb::Update]
    );
}

#[test]
fn tokio_postgres_context_reads_back_as_typed_history() {
    let db = common::database("history_tokio");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (mut client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        AuditContext::new()
            .actor_id("carol")
            .client_addr(addr("2001:db8::1"))
            .value("reason", "test")
            .transaction_async(&mut client, |tx| {
                Box::pin(async move { tx.batch_execute(WRITE).await })
            })
            .await
            .unwrap();

        let key = ArticleKey { id: 1 };
        let history = query::history_async::<ArticleChange>(&client, &key)
            .await
            .unwrap();
        check_article_history(&history, "carol", "2001:db8::1");
        let by_carol = query::actor_activity_async::<Change>(&client, "carol", around_now())
            .await
            .unwrap();
        assert_eq!(by_carol.len(), 3);
        let today = TimeRange::utc_day(Utc::now().date_naive());
        let who = query::changed_in_async::<ArticleChange>(&client, &key, today)
            .await
            .unwrap();
        assert_eq!(who.len(), 2);
        let now = query::as_of_async::<ArticleChange>(&client, &key, Utc::now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.title, "Final");
    });
}

#[test]
fn sqlx_context_reads_back_as_typed_history() {
    use sqlx::Connection;

    let db = common::database("history_sqlx");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
        AuditContext::new()
            .actor_id("dave")
            .client_addr(addr("198.51.100.4"))
            .value("reason", "test")
            .transaction_sqlx(&mut conn, |tx| {
                Box::pin(async move {
                    for statement in WRITE.split(';').filter(|s| !s.trim().is_empty()) {
                        sqlx::query(statement).execute(&mut *tx).await?;
                    }
                    Ok::<_, sqlx::Error>(())
                })
            })
            .await
            .unwrap();

        // A sqlx `Transaction` applies through `&mut *tx`.
        let mut tx = conn.begin().await.unwrap();
        AuditContext::new()
            .actor_id("erin")
            .apply_sqlx(&mut tx)
            .await
            .unwrap();
        sqlx::query("UPDATE article SET rating = 5 WHERE id = 1")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });

    let mut client = db.client();
    let history = query::history::<ArticleChange>(&mut client, &ArticleKey { id: 1 }).unwrap();
    check_article_history(&history[..2], "dave", "198.51.100.4");
    assert_eq!(history[2].actor_id(), Some("erin"));
    assert_eq!(history[2].client_addr(), None);
}
