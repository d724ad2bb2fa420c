//! A partitioned history (`[activity] partition`, pg_partman): the questions keep their
//! plans — partitions outside a given time range are pruned, and every partition that
//! is read is read through its index — and what `history` and `as_of` answer for a
//! record whose early history was dropped by retention.

mod common;

use audit_codegen::spec::Partition;
use audit_history_check::{ArticleChange, ArticleKey, Change};
use audit_runtime::Verb;
use audit_runtime::query::{self, QueryError, sql};
use chrono::{DateTime, Utc};
use common::bulk::{Shape, fill};
use serde_json::Value;

/// Every `(node type, relation, index)` of a JSON plan.
fn nodes(plan: &Value, out: &mut Vec<(String, String, String)>) {
    let text = |k: &str| plan.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    if plan.get("Node Type").is_some() {
        out.push((text("Node Type"), text("Relation Name"), text("Index Name")));
    }
    for child in plan
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        nodes(child, out);
    }
}

/// The partition indexes of the partitioned index `index` of activity.
fn partition_indexes(client: &mut postgres::Client, index: &str) -> Vec<String> {
    client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = to_regclass('audit.' || $1)",
            &[&index],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The partitions of activity that hold no row (those made ahead, the default).
fn empty_partitions(client: &mut postgres::Client) -> Vec<String> {
    let all: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'audit.activity'::regclass",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    all.into_iter()
        .filter(|p| {
            let sql = format!("SELECT NOT EXISTS (SELECT FROM ONLY audit.{p})");
            client.query_one(&sql, &[]).unwrap().get(0)
        })
        .collect()
}

/// Plans `statement` under both plan cache modes; every read of a populated activity
/// partition uses a partition of `index` (an empty one, with no page, may be scanned),
/// nothing else is scanned sequentially, and at most `max_partitions` partitions are
/// read (the others pruned).
fn check(
    client: &mut postgres::Client,
    name: &str,
    statement: &str,
    arguments: &str,
    index: &str,
    max_partitions: usize,
) {
    let indexes = partition_indexes(client, index);
    let empty = empty_partitions(client);
    assert!(indexes.len() >= 12, "{index}: {indexes:?}");
    client
        .batch_execute(&format!("PREPARE {name} AS {statement}"))
        .unwrap();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        client
            .batch_execute(&format!("SET plan_cache_mode = {mode}"))
            .unwrap();
        let row = client
            .query_one(
                &format!("EXPLAIN (FORMAT JSON) EXECUTE {name}({arguments})"),
                &[],
            )
            .unwrap();
        let plan: Value = row.get(0);
        let mut found = Vec::new();
        nodes(&plan[0]["Plan"], &mut found);
        let mut read = Vec::new();
        for (node, relation, used) in &found {
            if empty.contains(relation) {
                continue;
            }
            assert!(
                !node.starts_with("Seq Scan"),
                "{name} ({mode}) scans {relation} sequentially: {plan:#}"
            );
            if relation.starts_with("activity_") {
                assert!(
                    indexes.contains(used) || node == "Bitmap Heap Scan",
                    "{name} ({mode}) reads {relation} without {index}: {plan:#}"
                );
                read.push(relation.clone());
            }
        }
        read.sort();
        read.dedup();
        assert!(
            read.len() <= max_partitions,
            "{name} ({mode}) reads {} partitions ({read:?}), at most {max_partitions} expected: {plan:#}",
            read.len()
        );
        println!("{name} ({mode}): {} partition(s) read", read.len());
    }
}

#[test]
fn the_questions_prune_partitions_by_time_and_read_each_through_its_index() {
    let db = common::database("history_partitioned_plans");
    let mut client = db.client();
    fill(&mut client, &Shape { rows: 200_000 });
    common::partition(&db, Partition::Week, None);
    let partitions: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit.activity'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(partitions >= 15, "{partitions} partitions");

    // Without a time range the record index of every partition is probed.
    check(
        &mut client,
        "history",
        &sql::history::<ArticleChange>(),
        "'public', 'article', '1234', 9223372036854775807, 'id'",
        "activity_record_idx",
        usize::MAX,
    );
    // A day: only the partition holding it.
    check(
        &mut client,
        "changed_in",
        &sql::changed_in::<ArticleChange>(),
        "'public', 'article', '1234', '2026-02-01 00:00:00+00', '2026-02-02 00:00:00+00'",
        "activity_record_idx",
        1,
    );
    // A week of transactions: their activities are never older than the range, so the
    // 4 populated partitions before 2026-02-01 are pruned (11 of 15 are read).
    check(
        &mut client,
        "actor",
        &sql::actor::<Change>(),
        "'actor-7', '2026-02-01 00:00:00+00', '2026-02-08 00:00:00+00'",
        "activity_transaction_id_idx",
        11,
    );
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn after_retention_history_starts_at_the_oldest_kept_activity_and_as_of_before_it_is_an_error() {
    let db = common::database("history_partitioned_retention");
    let mut client = db.client();
    // 100 records, each inserted on 2026-01-01 and updated every ten days until April.
    fill(&mut client, &Shape { rows: 1000 });
    common::partition(&db, Partition::Month, Some("1 month"));
    let key = ArticleKey { id: 5 };
    let full = query::history::<ArticleChange>(&mut client, &key).unwrap();
    assert_eq!(full.len(), 10);
    assert_eq!(full[0].verb, Verb::Insert);
    assert!(
        query::as_of::<ArticleChange>(&mut client, &key, at("2025-12-31T00:00:00Z"))
            .unwrap()
            .is_none(),
        "before its insert the record did not exist"
    );

    // Retention as maintenance applies it on 2026-04-05: January and February go.
    client
        .batch_execute(
            "SELECT partman.drop_partition_time('audit.activity', p_retention := '1 month',
                     p_reference_timestamp := '2026-04-05 00:00:00+00')",
        )
        .unwrap();
    let kept = query::history::<ArticleChange>(&mut client, &key).unwrap();
    assert_eq!(
        kept.iter().map(|e| e.id).collect::<Vec<_>>(),
        full[6..].iter().map(|e| e.id).collect::<Vec<_>>(),
        "the history starts at the oldest kept activity"
    );
    let first = &kept[0];
    assert_eq!(first.verb, Verb::Update);
    assert!(first.issued_at >= at("2026-03-01T00:00:00Z"));

    // Before it, the state is unknown: an error that says so.
    match query::as_of::<ArticleChange>(&mut client, &key, at("2026-02-15T00:00:00Z")) {
        Err(QueryError::StartsLater(e)) => {
            assert_eq!((e.earliest, e.activity_id), (first.issued_at, first.id));
            assert!(e.to_string().contains("dropped by retention"), "{e}");
        }
        other => panic!("expected StartsLater, got {other:?}"),
    }
    // From it on, the row is rebuilt from the kept activities (an update records the
    // whole old row).
    let mut title = |at_time| {
        query::as_of::<ArticleChange>(&mut client, &key, at_time)
            .unwrap()
            .map(|row| row.title)
    };
    assert_eq!(title(first.issued_at), Some("title 606".to_owned()));
    assert_eq!(title(Utc::now()), Some("title 906".to_owned()));
}
