//! As-of reconstruction: during a random sequence of 500 updates (NULLs, key changes,
//! no-op updates) the row is snapshotted after every change; the state rebuilt from
//! history at each snapshot's time equals the snapshot.

mod common;

use audit_history_check::{Article, ArticleChange, ArticleKey};
use audit_runtime::query;
use audit_runtime::types::{Numeric, Timestamptz};
use chrono::{DateTime, Utc};

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// The one row of `article` and the time right after reading it.
fn snapshot(client: &mut postgres::Client) -> (DateTime<Utc>, Option<Article>) {
    let rows = client
        .query(
            "SELECT id, title, body, rating, price, published_at, clock_timestamp() FROM article",
            &[],
        )
        .unwrap();
    let at = rows.first().map_or_else(
        || {
            client
                .query_one("SELECT clock_timestamp()", &[])
                .unwrap()
                .get(0)
        },
        |r| r.get(6),
    );
    let row = rows.first().map(|r| Article {
        id: r.get(0),
        title: r.get(1),
        body: r.get(2),
        rating: r.get(3),
        price: r.get::<_, Option<Numeric>>(4),
        published_at: r.get::<_, Option<Timestamptz>>(5),
    });
    (at, row)
}

#[test]
fn state_as_of_every_snapshot_equals_the_row_then() {
    let db = common::database("history_as_of");
    let mut client = db.client();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut snapshots = vec![snapshot(&mut client)];
    client
        .execute("INSERT INTO article (id, title) VALUES (1, 'first')", &[])
        .unwrap();
    snapshots.push(snapshot(&mut client));
    let mut id = 1;
    let mut key_changes = 0;
    for step in 0..500 {
        let mut sets = Vec::new();
        if rng.chance(20) {
            id += 1 + rng.below(3) as i32;
            key_changes += 1;
            sets.push(format!("id = {id}"));
        }
        if rng.chance(3) {
            sets.push(format!("title = 'title {}'", rng.below(10)));
        }
        if rng.chance(3) {
            sets.push(match rng.below(3) {
                0 => "body = NULL".to_owned(),
                n => format!("body = 'body {n} of step {step}'"),
            });
        }
        if rng.chance(3) {
            sets.push(match rng.below(4) {
                0 => "rating = NULL".to_owned(),
                n => format!("rating = {n}"),
            });
        }
        if rng.chance(4) {
            sets.push(match rng.below(3) {
                0 => "price = NULL".to_owned(),
                _ => format!("price = {}.{:02}", rng.below(1000), rng.below(100)),
            });
        }
        if rng.chance(4) {
            sets.push(match rng.below(3) {
                0 => "published_at = NULL".to_owned(),
                _ => format!(
                    "published_at = timestamptz '2026-01-01 00:00:00+00' + interval '{} microseconds'",
                    rng.below(10_u64.pow(14))
                ),
            });
        }
        if sets.is_empty() {
            // An update that changes nothing records nothing.
            sets.push("title = title".to_owned());
        }
        client
            .execute(&format!("UPDATE article SET {}", sets.join(", ")), &[])
            .unwrap();
        snapshots.push(snapshot(&mut client));
    }
    client.execute("DELETE FROM article", &[]).unwrap();
    snapshots.push(snapshot(&mut client));
    assert!(
        key_changes > 10,
        "the sequence changes the key ({key_changes} times)"
    );
    assert!(snapshots.iter().any(|(_, r)| {
        r.as_ref()
            .is_some_and(|r| r.body.is_none() && r.price.is_some())
    }));

    let key = ArticleKey { id };
    let history = query::history::<ArticleChange>(&mut client, &key).unwrap();
    assert!(matches!(history[0].change, ArticleChange::Insert { .. }));
    for (i, (at, row)) in snapshots.iter().enumerate() {
        assert_eq!(&query::state_at(&history, *at), row, "snapshot {i} at {at}");
    }
    // The one-shot query agrees (a sample: each reads the whole history).
    for (at, row) in snapshots.iter().step_by(25) {
        assert_eq!(
            &query::as_of::<ArticleChange>(&mut client, &key, *at).unwrap(),
            row
        );
    }
}
