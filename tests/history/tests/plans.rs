//! Every question is answered through an index: on 200,000 analyzed activity rows, the
//! plans of the statements the queries run (custom and generic) never scan `activity`
//! or `transaction` sequentially, and use the index meant for them.

mod common;

use audit_history_check::{ArticleChange, Change};
use audit_runtime::query::sql;
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

/// Plans `statement` with `arguments` (SQL literals) under both plan cache modes and
/// checks the plan shape.
fn check(client: &mut postgres::Client, name: &str, statement: &str, arguments: &str, index: &str) {
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
        for (node, relation, _) in &found {
            assert!(
                !(node == "Seq Scan" && (relation == "activity" || relation == "transaction")),
                "{name} ({mode}) scans {relation} sequentially: {plan:#}"
            );
        }
        assert!(
            found.iter().any(|(_, _, i)| i == index),
            "{name} ({mode}) does not use {index}: {plan:#}"
        );
    }
}

#[test]
fn each_question_is_served_by_an_index() {
    let db = common::database("history_plans");
    let mut client = db.client();
    fill(&mut client, &Shape { rows: 200_000 });
    let count: i64 = client
        .query_one("SELECT count(*) FROM audit.activity", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 200_000);

    check(
        &mut client,
        "history",
        &sql::history::<ArticleChange>(),
        "'public', 'article', '1234', 9223372036854775807, 'id'",
        "activity_record_idx",
    );
    check(
        &mut client,
        "changed_in",
        &sql::changed_in::<ArticleChange>(),
        "'public', 'article', '1234', '2026-02-01 00:00:00+00', '2026-02-02 00:00:00+00'",
        "activity_record_idx",
    );
    for (name, index) in [
        ("actor", "transaction_actor_id_issued_at_idx"),
        ("actor_activities", "activity_transaction_id_idx"),
    ] {
        check(
            &mut client,
            name,
            &sql::actor::<Change>(),
            "'actor-7', '2026-02-01 00:00:00+00', '2026-02-08 00:00:00+00'",
            index,
        );
    }
}
