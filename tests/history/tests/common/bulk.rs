//! Fills the audit tables of a test database with `rows` activities of `public.article`
//! straight from `generate_series` (no triggers), as the table owner, then analyzes them.
//!
//! Shape: `rows / 10` records with ten activities each (an insert, then updates) spread
//! over 100 days; five consecutive activities per transaction; a transaction in five has
//! no context (`transaction_id` NULL), the others belong to one of 1,000 actors.

/// How many records, actors and days the generated history spans.
pub struct Shape {
    /// Activities.
    pub rows: i64,
}

impl Shape {
    /// Records (article ids `0..records`).
    pub fn records(&self) -> i64 {
        self.rows / 10
    }

    /// Actors (`actor-0` … `actor-999`).
    pub const ACTORS: i64 = 1000;

    /// The first day of the history.
    pub const START: &'static str = "2026-01-01T00:00:00Z";

    /// Days of history.
    pub const DAYS: i64 = 100;
}

/// Inserts the history of `shape` and runs `ANALYZE` on the audit tables.
pub fn fill(client: &mut postgres::Client, shape: &Shape) {
    let rows = shape.rows;
    let records = shape.records();
    let actors = Shape::ACTORS;
    let start = Shape::START;
    // Seconds between two activities so that `rows` of them span the days.
    let step = (Shape::DAYS * 86_400) as f64 / rows as f64;
    client
        .batch_execute(&format!(
            "INSERT INTO audit.transaction
                 (id, native_transaction_id, issued_at, client_addr, actor_id, context)
             OVERRIDING SYSTEM VALUE
             SELECT t, t::text::xid8,
                    timestamptz '{start}' + ((t - 1) * 5 * {step}) * interval '1 second',
                    inet '10.0.0.1', 'actor-' || (t % {actors}), NULL
               FROM generate_series(1, ({rows} + 4) / 5) AS t
              WHERE t % 5 <> 0;
             SELECT setval(pg_get_serial_sequence('audit.transaction', 'id'), ({rows} + 4) / 5);
             INSERT INTO audit.activity
                 (schema_name, table_name, relid, issued_at, native_transaction_id, verb,
                  object_id, old_data, changed_data, transaction_id)
             SELECT 'public', 'article', 'public.article'::regclass::oid,
                    timestamptz '{start}' + ((g - 1) * {step}) * interval '1 second',
                    ((g - 1) / 5 + 1)::text::xid8,
                    CASE WHEN g <= {records} THEN 'insert' ELSE 'update' END,
                    to_jsonb((g - 1) % {records}),
                    CASE WHEN g <= {records} THEN NULL ELSE jsonb_build_object(
                        'id', (g - 1) % {records}, 'title', 'title ' || (g - {records}),
                        'body', NULL, 'rating', g % 5, 'price', 9.99, 'published_at', NULL) END,
                    CASE WHEN g <= {records}
                         THEN jsonb_build_object(
                             'id', (g - 1) % {records}, 'title', 'title ' || g, 'body', NULL,
                             'rating', g % 5, 'price', 9.99, 'published_at', NULL)
                         ELSE jsonb_build_object('title', 'title ' || g) END,
                    CASE WHEN ((g - 1) / 5 + 1) % 5 = 0 THEN NULL ELSE (g - 1) / 5 + 1 END
               FROM generate_series(1, {rows}) AS g
              ORDER BY g;
             ANALYZE audit.transaction;
             ANALYZE audit.activity;"
        ))
        .unwrap_or_else(|e| panic!("bulk fill: {}", audit_tests::describe(&e)));
}
