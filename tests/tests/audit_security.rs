//! Security of the audit trail: the application role cannot forge, alter or erase
//! history, cannot hijack the SECURITY DEFINER triggers through its `search_path`, and
//! cannot switch auditing off or re-attribute activities with plain settings.

use audit_tests::{TestDb, TestRole, assert_denied, audit_spec, install_audit};
use postgres::Client;

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// An audited `article` and an application role with DML rights on it only.
fn setup(label: &str) -> (TestDb, TestRole) {
    let db = TestDb::with_sql(
        label,
        "CREATE TABLE article (id serial PRIMARY KEY, name text);",
    );
    install_audit(
        &db,
        &audit_spec(&db, "text", &[("public", "article", &[], false)]),
    );
    let app = TestRole::new(&db, label);
    db.client()
        .batch_execute(&format!(
            "GRANT USAGE, CREATE ON SCHEMA public TO {0};
             GRANT SELECT, INSERT, UPDATE, DELETE ON article TO {0};
             GRANT USAGE ON SEQUENCE article_id_seq TO {0};",
            app.name()
        ))
        .unwrap();
    (db, app)
}

#[test]
fn the_application_role_writes_audited_rows_but_cannot_touch_history() {
    let (db, app) = setup("privileges");
    let mut c = app.client();
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('app', NULL, NULL);
         INSERT INTO article (name) VALUES ('a');
         UPDATE article SET name = 'b';
         COMMIT;
         DELETE FROM article;",
    )
    .unwrap();
    for sql in [
        "INSERT INTO audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id, verb)
         VALUES ('public', 'article', 1, now(), pg_current_xact_id(), 'insert')",
        "UPDATE audit.activity SET verb = 'insert'",
        "DELETE FROM audit.activity",
        "TRUNCATE audit.activity",
        "INSERT INTO audit.transaction (native_transaction_id, issued_at) VALUES (pg_current_xact_id(), now())",
        "UPDATE audit.transaction SET actor_id = 'someone else'",
        "DELETE FROM audit.transaction",
        "TRUNCATE audit.transaction",
        "SELECT audit.suspend()",
        "DELETE FROM audit.key_change",
        "SELECT * FROM audit.secret",
        "SELECT audit.suspension_token()",
        "SELECT audit.transaction_for_context('{}')",
    ] {
        assert_denied(&mut c, sql);
    }
    let mut admin = db.client();
    assert_eq!(count(&mut admin, "SELECT count(*) FROM audit.activity"), 3);
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM audit.transaction WHERE actor_id = 'app'"
        ),
        1
    );
}

#[test]
fn a_hostile_search_path_does_not_redirect_the_triggers() {
    let (db, app) = setup("search_path");
    db.client()
        .batch_execute(&format!(
            "GRANT CREATE ON DATABASE {} TO {}",
            db.name(),
            app.name()
        ))
        .unwrap();
    let mut c = app.client();
    // Shadows of everything the trigger bodies call, each logging who ran it.
    c.batch_execute(
        r#"CREATE SCHEMA evil;
           CREATE TABLE evil.hits (who text, what text);
           GRANT ALL ON SCHEMA evil TO PUBLIC;
           GRANT ALL ON evil.hits TO PUBLIC;
           CREATE FUNCTION evil.hit(what text) RETURNS boolean LANGUAGE sql AS
               $$ INSERT INTO evil.hits VALUES (current_user, what) RETURNING true $$;
           CREATE FUNCTION evil.text_eq(a text, b text) RETURNS boolean LANGUAGE sql AS
               $$ SELECT evil.hit('text =') AND a OPERATOR(pg_catalog.=) b $$;
           CREATE FUNCTION evil.text_ne(a text, b text) RETURNS boolean LANGUAGE sql AS
               $$ SELECT evil.hit('text <>') AND a OPERATOR(pg_catalog.<>) b $$;
           CREATE FUNCTION evil.int_eq(a int, b int) RETURNS boolean LANGUAGE sql AS
               $$ SELECT evil.hit('int =') AND a OPERATOR(pg_catalog.=) b $$;
           CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
           CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_ne);
           CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.int_eq);
           CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql AS
               $$ SELECT CASE WHEN evil.hit('current_setting') THEN NULL END $$;
           CREATE FUNCTION evil.to_jsonb(anyelement) RETURNS jsonb LANGUAGE sql AS
               $$ SELECT CASE WHEN evil.hit('to_jsonb') THEN '"forged"'::jsonb END $$;
           CREATE FUNCTION evil.pg_current_xact_id() RETURNS xid8 LANGUAGE sql AS
               $$ SELECT CASE WHEN evil.hit('pg_current_xact_id') THEN '1'::xid8 END $$;
           CREATE FUNCTION evil.age(xid) RETURNS int LANGUAGE sql AS
               $$ SELECT CASE WHEN evil.hit('age') THEN 0 END $$;
           CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz LANGUAGE sql AS
               $$ SELECT CASE WHEN evil.hit('statement_timestamp') THEN now() END $$;
           CREATE DOMAIN evil.text AS pg_catalog.text CHECK (evil.hit('domain text'));
           CREATE DOMAIN evil.jsonb AS pg_catalog.jsonb CHECK (evil.hit('domain jsonb'));
           CREATE TABLE evil.activity (schema_name pg_catalog.text, table_name pg_catalog.text,
               relid oid, issued_at timestamptz, native_transaction_id xid8, verb pg_catalog.text,
               object_id pg_catalog.jsonb, old_data pg_catalog.jsonb,
               changed_data pg_catalog.jsonb, transaction_id bigint);
           CREATE TABLE evil.transaction (id bigint, native_transaction_id xid8,
               issued_at timestamptz, client_addr inet, actor_id pg_catalog.text,
               context pg_catalog.jsonb);"#,
    )
    .unwrap();
    c.batch_execute(
        "SET search_path = evil, pg_catalog, public;
         BEGIN;
         INSERT INTO public.article (name) VALUES ('a'), ('b');
         SELECT audit.set_context('app', '127.0.0.1', '{\"k\": 1}');
         UPDATE public.article SET name = 'c' WHERE name OPERATOR(pg_catalog.=) 'a';
         UPDATE public.article SET id = 10 WHERE id OPERATOR(pg_catalog.=) 2;
         DELETE FROM public.article WHERE id OPERATOR(pg_catalog.=) 10;
         COMMIT;",
    )
    .unwrap();
    let mut admin = db.client();
    // The shadows were never called, in particular not with the definer's rights.
    let hits: Vec<(String, String)> = admin
        .query("SELECT who, what FROM evil.hits", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(hits, vec![], "shadow objects ran inside the audit code");
    assert_eq!(count(&mut admin, "SELECT count(*) FROM evil.activity"), 0);
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id
              WHERE t.actor_id = 'app' AND a.object_id IS NOT NULL
                AND a.object_id <> '\"forged\"'"
        ),
        5
    );
}

#[test]
fn a_plain_set_config_does_not_suspend_auditing() {
    let (db, app) = setup("suspend");
    let maintenance = TestRole::new(&db, "maint");
    db.client()
        .batch_execute(&format!(
            "GRANT EXECUTE ON FUNCTION audit.suspend() TO {0};
             GRANT INSERT ON article TO {0};
             GRANT USAGE ON SEQUENCE article_id_seq TO {0};",
            maintenance.name()
        ))
        .unwrap();
    let mut c = app.client();
    c.batch_execute(
        "BEGIN;
         SELECT set_config('audit.suspended', 'anything', true);
         INSERT INTO article (name) VALUES ('recorded 1');
         COMMIT;",
    )
    .unwrap();
    // Even a token that suspend() produced in another transaction does not carry over.
    let mut m = maintenance.client();
    let token: String = {
        let mut tx = m.transaction().unwrap();
        tx.execute("SELECT audit.suspend()", &[]).unwrap();
        tx.execute("INSERT INTO article (name) VALUES ('not recorded')", &[])
            .unwrap();
        let token = tx
            .query_one("SELECT current_setting('audit.suspended')", &[])
            .unwrap()
            .get(0);
        tx.commit().unwrap();
        token
    };
    let mut tx = c.transaction().unwrap();
    tx.execute("SELECT set_config('audit.suspended', $1, true)", &[&token])
        .unwrap();
    tx.execute("INSERT INTO article (name) VALUES ('recorded 2')", &[])
        .unwrap();
    tx.commit().unwrap();
    // Suspension is transaction-local.
    m.batch_execute("INSERT INTO article (name) VALUES ('recorded 3')")
        .unwrap();
    let names: Vec<String> = db
        .client()
        .query(
            "SELECT changed_data->>'name' FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["recorded 1", "recorded 2", "recorded 3"]);
}

#[test]
fn forged_settings_do_not_attach_activities_to_another_transaction() {
    let (db, app) = setup("forged_link");
    let mut admin = db.client();
    // Another transaction with a context, and one without.
    admin
        .batch_execute(
            "BEGIN;
             SELECT audit.set_context('victim', NULL, NULL);
             INSERT INTO article (name) VALUES ('victim');
             COMMIT;
             INSERT INTO article (name) VALUES ('anonymous');",
        )
        .unwrap();
    let victim: i64 = admin
        .query_one("SELECT id FROM audit.transaction", &[])
        .unwrap()
        .get(0);
    let mut c = app.client();
    let mut tx = c.transaction().unwrap();
    // Every setting name the audit code might read, pointed at the victim's row and at
    // the very first activity.
    for name in [
        "audit.transaction_id",
        "audit.transaction",
        "audit.first_activity",
    ] {
        let value = if name == "audit.first_activity" {
            "0".to_owned()
        } else {
            victim.to_string()
        };
        tx.execute("SELECT set_config($1, $2, true)", &[&name, &value])
            .unwrap();
    }
    tx.execute("INSERT INTO article (name) VALUES ('attacker')", &[])
        .unwrap();
    tx.execute("SELECT audit.set_context('attacker', NULL, NULL)", &[])
        .unwrap();
    tx.execute("INSERT INTO article (name) VALUES ('attacker 2')", &[])
        .unwrap();
    tx.commit().unwrap();
    let rows: Vec<(String, Option<String>)> = admin
        .query(
            "SELECT a.changed_data->>'name', t.actor_id
               FROM audit.activity a LEFT JOIN audit.transaction t ON t.id = a.transaction_id
              ORDER BY a.id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("victim".to_owned(), Some("victim".to_owned())),
            ("anonymous".to_owned(), None),
            ("attacker".to_owned(), Some("attacker".to_owned())),
            ("attacker 2".to_owned(), Some("attacker".to_owned())),
        ]
    );
}
