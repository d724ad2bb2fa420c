//! Privileges of an application role that owns no audit object, beyond
//! `audit_security.rs`: it cannot read another session's context or any history,
//! cannot forge activities through the trigger functions, cannot alter, drop, lock or
//! re-grant audit objects or switch triggers off on tables it does not own, and can
//! suspend auditing only through the documented grant (also when inherited through a
//! role). The trigger functions resist shadowing operators on jsonb, records and key
//! types and `pg_temp` types and tables. Each test prints how many checks it made.

use audit_runtime::AuditContext;
use audit_tests::{
    TestDb, TestRole, assert_denied, audit_catalog, audit_spec, describe, install_audit,
};
use postgres::Client;

/// Counts the checks of a test.
#[derive(Default)]
struct Checks(usize);

impl Checks {
    /// `sql` is refused for lack of privilege.
    fn denied(&mut self, client: &mut Client, sql: &str) {
        assert_denied(client, sql);
        self.0 += 1;
    }

    /// A condition that must hold.
    fn that(&mut self, holds: bool, what: &str) {
        assert!(holds, "{what}");
        self.0 += 1;
    }

    fn report(&self, test: &str) {
        println!("privilege checks in {test}: {}", self.0);
    }
}

fn one<T: postgres::types::FromSqlOwned>(client: &mut Client, sql: &str) -> T {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
        .get(0)
}

/// An audited database: `article` (serial key) and `account` (uuid key, jsonb) owned by
/// the migrating role, and `own`, owned by the application role; the application role
/// has DML on the first two and may create objects in `public`.
fn setup(label: &str) -> (TestDb, TestRole) {
    let db = TestDb::with_sql(
        label,
        "CREATE TABLE article (id serial PRIMARY KEY, name text);
         CREATE TABLE account (id uuid PRIMARY KEY, n bigint, doc jsonb);",
    );
    let app = TestRole::new(&db, label);
    db.client()
        .batch_execute(&format!(
            "GRANT USAGE, CREATE ON SCHEMA public TO {0};
             GRANT SELECT, INSERT, UPDATE, DELETE ON article, account TO {0};
             GRANT USAGE ON SEQUENCE article_id_seq TO {0};",
            app.name()
        ))
        .unwrap();
    app.client()
        .batch_execute("CREATE TABLE own (id int PRIMARY KEY, v text)")
        .unwrap();
    install_audit(
        &db,
        &audit_spec(
            &db,
            "text",
            &[
                ("public", "account", &[], false),
                ("public", "article", &[], false),
                ("public", "own", &[], false),
            ],
        ),
    );
    (db, app)
}

#[test]
fn the_context_and_history_of_other_sessions_stay_unreadable() {
    let (db, app) = setup("priv_read");
    let mut checks = Checks::default();
    let mut admin = db.client();
    admin
        .batch_execute("ANALYZE audit.secret; ANALYZE audit.transaction;")
        .unwrap();
    let victim = TestRole::new(&db, "victim");
    admin
        .batch_execute(&format!(
            "GRANT INSERT ON article TO {0}; GRANT USAGE ON SEQUENCE article_id_seq TO {0};",
            victim.name()
        ))
        .unwrap();
    // Another role's session, mid-transaction, with a context written as literals.
    let mut other = victim.client();
    other
        .batch_execute(
            "BEGIN;
             SELECT audit.set_context('secret-actor', '203.0.113.9', '{\"token\": \"s3cr3t\"}');
             INSERT INTO article (name) VALUES ('by the victim');",
        )
        .unwrap();
    // A session of the application role itself, through the runtime (bind parameters).
    let mut sibling = app.client();
    let mut sibling_tx = sibling.transaction().unwrap();
    AuditContext::new()
        .actor_id("sibling-actor")
        .value("token", "t0ken")
        .apply(&mut sibling_tx)
        .unwrap();

    let mut c = app.client();
    let own_setting: Option<String> = one(&mut c, "SELECT current_setting('audit.context', true)");
    checks.that(
        own_setting.unwrap_or_default().is_empty(),
        "another session's context is not this session's setting",
    );
    let settings: String = one(
        &mut c,
        "SELECT coalesce(string_agg(name || '=' || setting, ','), '') FROM pg_settings
          WHERE name LIKE 'audit%'",
    );
    checks.that(
        !settings.contains("secret") && !settings.contains("t0ken"),
        &format!("pg_settings shows no other session's context: {settings}"),
    );
    let activity: String = one(
        &mut c,
        "SELECT coalesce(string_agg(coalesce(query, ''), ' | '), '') FROM pg_stat_activity
          WHERE pid <> pg_backend_pid()",
    );
    checks.that(
        !activity.contains("s3cr3t") && !activity.contains("secret-actor"),
        &format!("another role's query text is hidden: {activity}"),
    );
    checks.that(
        !activity.contains("sibling-actor") && !activity.contains("t0ken"),
        &format!("the runtime sends the context as parameters: {activity}"),
    );
    for sql in [
        "SELECT * FROM audit.transaction",
        "SELECT * FROM audit.activity",
        "SELECT * FROM audit.key_change",
        "SELECT * FROM audit.secret",
        "COPY audit.transaction TO STDOUT",
        "SELECT last_value FROM audit.activity_id_seq",
        "SELECT pg_catalog.pg_sequence_last_value('audit.activity_id_seq')",
        "SELECT pg_catalog.currval('audit.activity_id_seq')",
        "SELECT audit.suspension_token()",
        "SELECT audit.transaction_for_context('{}')",
    ] {
        checks.denied(&mut c, sql);
    }
    // Statistics hold sampled values; they are shown only to roles that may read them.
    let admin_stats: i64 = one(
        &mut admin,
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'audit'",
    );
    let app_stats: i64 = one(
        &mut c,
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'audit'",
    );
    checks.that(
        admin_stats > 0 && app_stats == 0,
        &format!("pg_stats of audit tables: admin {admin_stats}, application {app_stats}"),
    );
    // The secret signing suspension tokens is in no function source.
    let secret: String = one(&mut admin, "SELECT value FROM audit.secret");
    let sources: String = one(
        &mut c,
        "SELECT string_agg(prosrc, ' ') FROM pg_proc WHERE pronamespace = 'audit'::regnamespace",
    );
    checks.that(
        !sources.contains(&secret),
        "the secret is not in any function source",
    );
    other.batch_execute("COMMIT").unwrap();
    sibling_tx.commit().unwrap();
    checks.report("the_context_and_history_of_other_sessions_stay_unreadable");
}

#[test]
fn activity_cannot_be_forged_through_the_trigger_functions() {
    let (db, app) = setup("priv_forge");
    let mut checks = Checks::default();
    let mut admin = db.client();
    let before = audit_catalog(&mut admin, "audit");
    let mut c = app.client();
    let functions: Vec<String> = admin
        .query(
            "SELECT oid::regproc::text FROM pg_proc
              WHERE pronamespace = 'audit'::regnamespace AND prorettype = 'trigger'::regtype
              ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    checks.that(functions.len() == 12, &format!("{functions:?}"));
    for function in &functions {
        // Called directly…
        checks.denied(&mut c, &format!("SELECT {function}()"));
        // …or attached to a table the application owns, where it would record the
        // application's rows under the audited table's name.
        checks.denied(
            &mut c,
            &format!(
                "CREATE TRIGGER forge AFTER INSERT ON own REFERENCING NEW TABLE AS new_rows
                 FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            ),
        );
    }
    for sql in [
        "COPY audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id, verb) FROM STDIN",
        "INSERT INTO audit.key_change VALUES (pg_current_xact_id(), 'article'::regclass, '1', '2')",
        "WITH forged AS (INSERT INTO audit.transaction (native_transaction_id, issued_at)
                         VALUES (pg_current_xact_id(), now()) RETURNING id) SELECT * FROM forged",
        "SELECT audit.suspend()",
    ] {
        checks.denied(&mut c, sql);
    }
    checks.that(
        audit_catalog(&mut admin, "audit") == before,
        "nothing in the audit schema changed",
    );
    checks.report("activity_cannot_be_forged_through_the_trigger_functions");
}

#[test]
fn audit_objects_cannot_be_altered_dropped_locked_or_regranted() {
    let (db, app) = setup("priv_alter");
    let mut checks = Checks::default();
    let mut admin = db.client();
    admin
        .batch_execute("INSERT INTO article (name) VALUES ('history')")
        .unwrap();
    let before = audit_catalog(&mut admin, "audit");
    let mut c = app.client();
    let role = app.name().to_owned();
    for sql in [
        "ALTER TABLE audit.activity ADD COLUMN forged int".to_owned(),
        "ALTER TABLE audit.activity DROP COLUMN old_data".to_owned(),
        "ALTER TABLE audit.activity ALTER COLUMN verb DROP NOT NULL".to_owned(),
        "ALTER TABLE audit.activity RENAME TO activity_old".to_owned(),
        "ALTER TABLE audit.activity ENABLE ROW LEVEL SECURITY".to_owned(),
        "ALTER TABLE audit.transaction OWNER TO CURRENT_USER".to_owned(),
        "DROP TABLE audit.activity".to_owned(),
        "DROP TABLE audit.transaction".to_owned(),
        "DROP TABLE audit.secret".to_owned(),
        "DROP SCHEMA audit CASCADE".to_owned(),
        "ALTER SCHEMA audit RENAME TO audit_old".to_owned(),
        "ALTER SCHEMA audit OWNER TO CURRENT_USER".to_owned(),
        "DROP FUNCTION audit.set_context(text, inet, jsonb)".to_owned(),
        "ALTER FUNCTION audit.set_context(text, inet, jsonb) SECURITY INVOKER".to_owned(),
        "ALTER FUNCTION audit.set_context(text, inet, jsonb) SET search_path = public".to_owned(),
        "CREATE OR REPLACE FUNCTION audit.suspension_token() RETURNS text LANGUAGE sql AS $$ SELECT '' $$".to_owned(),
        "CREATE FUNCTION audit.transaction_for_context(context jsonb) RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$".to_owned(),
        "CREATE TABLE audit.forged (x int)".to_owned(),
        "CREATE INDEX ON audit.activity (verb)".to_owned(),
        "CREATE RULE forged AS ON INSERT TO audit.activity DO INSTEAD NOTHING".to_owned(),
        "CREATE POLICY hide ON audit.activity USING (false)".to_owned(),
        "CREATE TRIGGER forged BEFORE INSERT ON audit.activity FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()".to_owned(),
        "COMMENT ON TABLE audit.activity IS 'forged'".to_owned(),
        "REINDEX TABLE audit.activity".to_owned(),
        "CLUSTER audit.activity USING activity_pkey".to_owned(),
        "BEGIN; LOCK TABLE audit.activity IN ACCESS EXCLUSIVE MODE".to_owned(),
        "ROLLBACK; BEGIN; LOCK TABLE audit.transaction IN SHARE MODE".to_owned(),
        "ROLLBACK; ALTER SEQUENCE audit.activity_id_seq RESTART".to_owned(),
        "SELECT setval('audit.activity_id_seq', 1)".to_owned(),
        "ALTER TABLE article DISABLE TRIGGER ALL".to_owned(),
        "ALTER TABLE article DISABLE TRIGGER audit_insert".to_owned(),
        "ALTER TABLE article DISABLE TRIGGER USER".to_owned(),
        "DROP TRIGGER audit_insert ON article".to_owned(),
        "ALTER TABLE article RENAME TO article_old".to_owned(),
        "SET session_replication_role = replica".to_owned(),
        format!("ALTER ROLE {role} SET session_replication_role = replica"),
    ] {
        checks.denied(&mut c, &sql);
    }
    c.batch_execute("ROLLBACK").unwrap();
    // Nor can it grant itself anything.
    checks.denied(
        &mut c,
        &format!("GRANT SELECT, INSERT ON audit.activity TO {role}"),
    );
    checks.denied(
        &mut c,
        &format!("GRANT EXECUTE ON FUNCTION audit.suspend() TO {role}"),
    );
    let granted: bool = one(
        &mut admin,
        &format!(
            "SELECT has_table_privilege('{role}', 'audit.activity', 'SELECT')
                 OR has_table_privilege('{role}', 'audit.activity', 'INSERT')
                 OR has_function_privilege('{role}', 'audit.suspend()', 'EXECUTE')"
        ),
    );
    checks.that(!granted, "the application granted itself nothing");
    checks.that(
        audit_catalog(&mut admin, "audit") == before,
        "nothing in the audit schema changed",
    );
    // And auditing still works for the application.
    c.batch_execute("INSERT INTO article (name) VALUES ('after')")
        .unwrap();
    let recorded: i64 = one(&mut admin, "SELECT count(*) FROM audit.activity");
    checks.that(recorded == 2, "the application's insert is recorded");
    checks.report("audit_objects_cannot_be_altered_dropped_locked_or_regranted");
}

#[test]
fn the_owner_of_an_audited_table_can_switch_its_triggers_off() {
    // A documented limit (README): ownership of a table includes its triggers.
    let (db, app) = setup("priv_owner");
    let mut checks = Checks::default();
    let mut c = app.client();
    c.batch_execute(
        "INSERT INTO own VALUES (1, 'recorded');
         ALTER TABLE own DISABLE TRIGGER USER;
         INSERT INTO own VALUES (2, 'not recorded');
         ALTER TABLE own ENABLE TRIGGER USER;
         INSERT INTO own VALUES (3, 'recorded again');",
    )
    .unwrap();
    let recorded: Vec<String> = db
        .client()
        .query(
            "SELECT changed_data->>'v' FROM audit.activity WHERE table_name = 'own' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    checks.that(
        recorded == ["recorded", "recorded again"],
        &format!("{recorded:?}"),
    );
    // On a table it does not own, the same statements are refused.
    checks.denied(&mut c, "ALTER TABLE article DISABLE TRIGGER USER");
    checks.report("the_owner_of_an_audited_table_can_switch_its_triggers_off");
}

#[test]
fn suspension_needs_the_documented_grant_even_through_role_membership() {
    let (db, app) = setup("priv_suspend");
    let mut checks = Checks::default();
    let mut admin = db.client();
    let maintenance = TestRole::new(&db, "maintenance");
    let names = |admin: &mut Client| -> Vec<String> {
        admin
            .query(
                "SELECT changed_data->>'name' FROM audit.activity ORDER BY id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let mut c = app.client();
    checks.denied(&mut c, "SELECT audit.suspend()");
    admin
        .batch_execute(&format!(
            "GRANT EXECUTE ON FUNCTION audit.suspend() TO {m};
             GRANT {m} TO {a};",
            m = maintenance.name(),
            a = app.name()
        ))
        .unwrap();
    // Suspended in one session; a concurrent session of the same role is recorded.
    let mut c = app.client();
    let mut concurrent = app.client();
    c.batch_execute("BEGIN; SELECT audit.suspend();").unwrap();
    concurrent
        .batch_execute("BEGIN; INSERT INTO article (name) VALUES ('concurrent');")
        .unwrap();
    c.batch_execute("INSERT INTO article (name) VALUES ('suspended'); COMMIT;")
        .unwrap();
    concurrent.batch_execute("COMMIT").unwrap();
    // A suspension rolled back with its savepoint no longer holds.
    c.batch_execute(
        "BEGIN;
         SAVEPOINT s;
         SELECT audit.suspend();
         ROLLBACK TO SAVEPOINT s;
         INSERT INTO article (name) VALUES ('after rollback');
         COMMIT;",
    )
    .unwrap();
    checks.that(
        names(&mut admin) == ["concurrent", "after rollback"],
        &format!("{:?}", names(&mut admin)),
    );
    // Without the membership, refused again.
    admin
        .batch_execute(&format!(
            "REVOKE {} FROM {}",
            maintenance.name(),
            app.name()
        ))
        .unwrap();
    let mut c = app.client();
    checks.denied(&mut c, "SELECT audit.suspend()");
    checks.report("suspension_needs_the_documented_grant_even_through_role_membership");
}

#[test]
fn shadowing_jsonb_record_and_key_operators_and_pg_temp_objects_does_not_reach_the_triggers() {
    let (db, app) = setup("priv_shadow");
    let mut checks = Checks::default();
    let mut admin = db.client();
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA evil AUTHORIZATION {0};
             CREATE TABLE evil.hits (who text, what text);
             ALTER TABLE evil.hits OWNER TO {0};
             GRANT ALL ON evil.hits TO PUBLIC;",
            app.name()
        ))
        .unwrap();
    let mut c = app.client();
    c.batch_execute(
        r#"GRANT USAGE ON SCHEMA evil TO PUBLIC;
           CREATE FUNCTION evil.hit(what text) RETURNS boolean LANGUAGE sql AS
               $$ INSERT INTO evil.hits VALUES (current_user, what) RETURNING true $$;
           GRANT EXECUTE ON FUNCTION evil.hit(text) TO PUBLIC;"#,
    )
    .unwrap();
    // One shadow per operator the trigger bodies use, on every type they use it with:
    // (name, left type, right type, result type, body using the real operator).
    let operators = [
        ("=", "jsonb", "jsonb", "boolean"),
        ("<>", "jsonb", "jsonb", "boolean"),
        ("-", "jsonb", "text", "jsonb"),
        ("-", "jsonb", "text[]", "jsonb"),
        ("->", "jsonb", "text", "jsonb"),
        ("->>", "jsonb", "text", "text"),
        ("||", "jsonb", "jsonb", "jsonb"),
        ("||", "text", "text", "text"),
        ("?", "jsonb", "text", "boolean"),
        ("=", "uuid", "uuid", "boolean"),
        ("=", "bigint", "bigint", "boolean"),
        ("=", "integer", "integer", "boolean"),
        ("=", "text", "text", "boolean"),
        ("<>", "text", "text", "boolean"),
        ("=", "xid8", "xid8", "boolean"),
        ("<=", "integer", "integer", "boolean"),
        (">", "bigint", "bigint", "boolean"),
        ("=", "oid", "oid", "boolean"),
    ];
    let mut sql = String::new();
    for (i, (op, left, right, result)) in operators.iter().enumerate() {
        sql.push_str(&format!(
            "CREATE FUNCTION evil.op_{i}(a {left}, b {right}) RETURNS {result} LANGUAGE sql AS
                 $$ SELECT CASE WHEN evil.hit('{op} {left}') THEN a OPERATOR(pg_catalog.{op}) b END $$;
             CREATE OPERATOR evil.{op} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = evil.op_{i});\n"
        ));
    }
    // Record-image comparison, which the update triggers use for non-binary types.
    sql.push_str(
        "CREATE FUNCTION evil.rec_eq(a record, b record) RETURNS boolean LANGUAGE plpgsql AS
             $$ BEGIN PERFORM evil.hit('*= record'); RETURN a OPERATOR(pg_catalog.*=) b; END $$;
         CREATE OPERATOR evil.*= (LEFTARG = record, RIGHTARG = record, FUNCTION = evil.rec_eq);
         CREATE FUNCTION evil.rec_ne(a record, b record) RETURNS boolean LANGUAGE plpgsql AS
             $$ BEGIN PERFORM evil.hit('*<> record'); RETURN a OPERATOR(pg_catalog.*<>) b; END $$;
         CREATE OPERATOR evil.*<> (LEFTARG = record, RIGHTARG = record, FUNCTION = evil.rec_ne);\n",
    );
    c.batch_execute(&sql)
        .unwrap_or_else(|e| panic!("shadows: {}", describe(&e)));
    let shadows: i64 = one(
        &mut admin,
        "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace",
    );
    checks.that(shadows == operators.len() as i64 + 2, "every shadow exists");

    // The temporary schema is searched first for types and tables, before pg_catalog:
    // domains named like built-in types (with a CHECK that runs code) and tables named
    // like the audit and transition tables.
    let temp_shadows =
        "CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (evil.hit('pg_temp text'));
         CREATE DOMAIN pg_temp.jsonb AS pg_catalog.jsonb CHECK (evil.hit('pg_temp jsonb'));
         CREATE DOMAIN pg_temp.oid AS pg_catalog.oid CHECK (evil.hit('pg_temp oid'));
         CREATE DOMAIN pg_temp.xid8 AS pg_catalog.xid8 CHECK (evil.hit('pg_temp xid8'));
         CREATE DOMAIN pg_temp.inet AS pg_catalog.inet CHECK (evil.hit('pg_temp inet'));
         CREATE DOMAIN pg_temp.regclass AS pg_catalog.regclass CHECK (evil.hit('pg_temp regclass'));
         CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (evil.hit('pg_temp uuid'));
         CREATE TEMP TABLE activity (LIKE audit_shadow_template);
         CREATE TEMP TABLE transaction (id bigint);
         CREATE TEMP TABLE key_change (x int);
         CREATE TEMP TABLE secret (value text);
         INSERT INTO pg_temp.secret VALUES ('known');
         CREATE TEMP TABLE new_rows (id int, name text);
         CREATE TEMP TABLE old_rows (id int, name text);";
    admin
        .batch_execute(
            "CREATE TABLE public.audit_shadow_template (schema_name text, table_name text,
                 relid oid, issued_at timestamptz, native_transaction_id xid8, verb text,
                 object_id jsonb, old_data jsonb, changed_data jsonb, transaction_id bigint);
             GRANT SELECT ON public.audit_shadow_template TO PUBLIC;",
        )
        .unwrap();
    for search_path in [
        "evil, pg_catalog, public",
        "pg_temp, evil, pg_catalog, public",
        "evil, pg_catalog",
    ] {
        let mut c = app.client();
        c.batch_execute(temp_shadows)
            .unwrap_or_else(|e| panic!("temp shadows: {}", describe(&e)));
        c.batch_execute(&format!(
            "SET search_path = {search_path};
             BEGIN;
             INSERT INTO public.article (name) VALUES ('a'), ('b');
             INSERT INTO public.account VALUES
                 ('00000000-0000-0000-0000-000000000001', 1, '{{\"k\": [1, 2]}}'),
                 ('00000000-0000-0000-0000-000000000002', 2, NULL);
             SELECT audit.set_context('app', '127.0.0.1', '{{\"k\": 1}}');
             UPDATE public.article SET name = 'c' WHERE name OPERATOR(pg_catalog.=) 'a';
             UPDATE public.account SET doc = '{{\"k\": [1, 3]}}', n = 5;
             UPDATE public.account SET id = '00000000-0000-0000-0000-000000000003'
              WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000001'::uuid;
             UPDATE public.article SET id = id OPERATOR(pg_catalog.+) 100;
             DELETE FROM public.article;
             DELETE FROM public.account;
             COMMIT;"
        ))
        .unwrap_or_else(|e| panic!("{search_path}: {}", describe(&e)));
        // The trigger functions run as their owner: a shadow they reached would log
        // another role than the application's.
        let hits: Vec<String> = admin
            .query(
                "SELECT who || ': ' || what FROM evil.hits WHERE who <> $1",
                &[&app.name()],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        checks.that(
            hits.is_empty(),
            &format!("with search_path = {search_path}, shadows ran as the owner: {hits:?}"),
        );
    }
    // The shadows were live: the application's own `::uuid` cast reached its temporary
    // domain (running its own code with its own rights).
    let own: i64 = one(
        &mut admin,
        "SELECT count(*) FROM evil.hits WHERE what = 'pg_temp uuid'",
    );
    checks.that(own > 0, "the temporary domains shadow the built-in types");
    // Every statement was recorded, with the real values, under the real context.
    let rows: Vec<(String, String, serde_json::Value)> = admin
        .query(
            "SELECT a.table_name, a.verb, coalesce(a.changed_data, a.old_data)
               FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id
              WHERE t.actor_id = 'app' ORDER BY a.id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // Per round: 2 + 2 inserts, 1 + 2 + 1 + 2 updates, 2 + 2 deletes.
    checks.that(rows.len() == 3 * 14, &format!("{} activities", rows.len()));
    checks.that(
        rows.iter()
            .any(|(t, v, d)| t == "account" && v == "update" && d["doc"]["k"][1] == 3),
        "the jsonb change is recorded as it was made",
    );
    checks.report(
        "shadowing_jsonb_record_and_key_operators_and_pg_temp_objects_does_not_reach_the_triggers",
    );
}

#[test]
fn trigger_and_schema_sql_call_no_function_through_the_search_path() {
    // A static complement to the tests above: in the generated SQL, every function call
    // is schema-qualified, except the SQL keywords that look like calls.
    let db = TestDb::with_sql(
        "priv_static",
        "CREATE TYPE mood AS ENUM ('a');
         CREATE TABLE t (id int PRIMARY KEY, j jsonb, ts timestamptz, m mood, a int[]);
         CREATE TABLE k (x text, y uuid, PRIMARY KEY (x, y));
         CREATE TABLE n (v text);",
    );
    let mut spec = audit_spec(
        &db,
        "bigint",
        &[
            ("public", "k", &[], true),
            ("public", "n", &[], true),
            ("public", "t", &[], true),
        ],
    );
    spec.audit_schema = "audit".to_owned();
    let mut sql = audit_codegen::sql::render_audit_schema(&spec).unwrap();
    for table in &spec.tables {
        sql.push_str(&audit_codegen::sql::render_table(&spec, table).unwrap());
    }
    // The function bodies are dollar-quoted strings: read them as SQL too.
    let mut texts = vec![sql.clone()];
    let mut i = 0;
    while i < texts.len() {
        let text = texts[i].clone();
        for token in audit_codegen::sqltext::tokenize(&text).unwrap() {
            let source = &text[token.start..token.end];
            if let Some(rest) = source.strip_prefix("$function$") {
                texts.push(rest.trim_end_matches("$function$").to_owned());
            }
        }
        i += 1;
    }
    assert!(texts.len() > 10, "{} function bodies", texts.len() - 1);
    const KEYWORD_CALLS: &[&str] = &[
        "coalesce",
        "row",
        "exists",
        "values",
        "in",
        "as",
        "on",
        "array",
        "and",
        "or",
        "not",
        "from",
        "when",
        "then",
        "select",
        "where",
        "if",
        "returns",
        "by",
        "key",
        "identity",
        "with",
        "into",
        "using",
        "of",
        "function",
        "index",
        "table",
        "trigger",
        "references",
        "conflict",
        "execute",
        "elsif",
        "return",
        "perform",
        "name",
        "operator",
        "brin",
        "else",
        "over",
        "join",
    ];
    let mut checks = Checks::default();
    let mut unqualified = Vec::new();
    for text in &texts {
        let tokens = audit_codegen::sqltext::tokenize(text).unwrap();
        for (i, token) in tokens.iter().enumerate() {
            use audit_codegen::sqltext::TokenKind;
            let TokenKind::Word {
                value,
                quoted: false,
            } = &token.kind
            else {
                continue;
            };
            let called = tokens
                .get(i + 1)
                .is_some_and(|t| t.kind == TokenKind::LParen);
            let qualified = i > 0 && tokens[i - 1].kind == TokenKind::Period;
            if called && !qualified && !KEYWORD_CALLS.contains(&value.as_str()) {
                unqualified.push(format!("{value} at line {}", token.line));
            }
            checks.0 += usize::from(called);
        }
    }
    assert!(unqualified.is_empty(), "unqualified calls: {unqualified:?}");
    checks.report("trigger_and_schema_sql_call_no_function_through_the_search_path");
}

#[test]
fn history_rewrites_do_not_resolve_functions_through_the_search_path() {
    let db = TestDb::with_sql(
        "priv_history",
        "CREATE TABLE article (id int PRIMARY KEY, title text);",
    );
    let app = TestRole::new(&db, "history");
    let mut admin = db.client();
    admin
        .batch_execute(&format!(
            "CREATE TABLE hits (who text); GRANT INSERT ON hits TO PUBLIC;
             GRANT USAGE, CREATE ON SCHEMA public TO {};",
            app.name()
        ))
        .unwrap();
    let spec = audit_spec(&db, "text", &[("public", "article", &[], false)]);
    install_audit(&db, &spec);
    admin
        .batch_execute(
            "INSERT INTO article VALUES (1, 'x');
             ALTER TABLE article RENAME COLUMN title TO headline;",
        )
        .unwrap();
    app.client()
        .batch_execute(
            "CREATE FUNCTION public.jsonb_build_object(text, jsonb) RETURNS jsonb LANGUAGE sql AS
                 $$ INSERT INTO public.hits VALUES (current_user) RETURNING NULL::jsonb $$;",
        )
        .unwrap();
    let rewrite = audit_codegen::migrate::history::rename_key(
        "audit", "public", "article", "title", "headline",
    )
    .unwrap();
    admin.batch_execute(&rewrite).unwrap();
    let hits: i64 = one(&mut admin, "SELECT count(*) FROM hits");
    assert_eq!(hits, 0, "the application's function ran in the migration");
}
