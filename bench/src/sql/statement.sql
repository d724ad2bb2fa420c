-- A generic statement-level audit trigger (the design of PostgreSQL-Audit since it moved
-- to transition tables), written here from its technique as a baseline: one plpgsql
-- function for every table and verb, fired FOR EACH STATEMENT with the statement's
-- transition tables; each row turned into JSON as a whole (`to_jsonb`), excluded
-- columns removed with `jsonb - text[]`, updates diffed with a generic `jsonb - jsonb`
-- function and paired on the key column named by the trigger; a transaction row per
-- transaction (found or created by xid with INSERT … ON CONFLICT), which every activity
-- links to. Its activity table has the two indexes such a tool ships: the primary key
-- and the link to the transaction.
--
-- The harness creates the schema before this script.

CREATE TABLE statement_audit.transaction (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    native_transaction_id xid8 NOT NULL,
    issued_at timestamptz NOT NULL,
    client_addr inet,
    actor_id text,
    context jsonb
);
CREATE UNIQUE INDEX statement_transaction_xid ON statement_audit.transaction (native_transaction_id);

CREATE TABLE statement_audit.activity (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    relid oid NOT NULL,
    issued_at timestamptz NOT NULL,
    native_transaction_id xid8 NOT NULL,
    verb text NOT NULL,
    old_data jsonb,
    changed_data jsonb,
    transaction_id bigint REFERENCES statement_audit.transaction (id)
);
CREATE INDEX statement_activity_transaction ON statement_audit.activity (transaction_id);

-- jsonb - jsonb: the pairs of `a` whose value differs in (or is missing from) `b`.
CREATE FUNCTION statement_audit.jsonb_subtract(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT coalesce(jsonb_object_agg(pair.key, pair.value), '{}'::jsonb)
      FROM jsonb_each(a) AS pair
     WHERE b -> pair.key IS DISTINCT FROM pair.value
$$;

-- The context of the web-request case: the application writes the transaction row up
-- front; the trigger then finds it.
CREATE FUNCTION statement_audit.set_context(actor_id text, client_addr inet, context jsonb)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO statement_audit.transaction (native_transaction_id, issued_at, client_addr, actor_id, context)
    VALUES (pg_current_xact_id(), now(), $2, $1, $3)
    ON CONFLICT (native_transaction_id) DO UPDATE
       SET actor_id = excluded.actor_id,
           client_addr = excluded.client_addr,
           context = excluded.context
$$;

-- TG_ARGV[0]: the excluded columns as a text[] literal; TG_ARGV[1]: the key column.
-- SET enable_nestloop = off, as ours has: plpgsql keeps the plan its first call made,
-- and a plan made for a one-row UPDATE pairs the rows of every later UPDATE on that
-- connection by nested loop (51 s for 1,000 rows); the baseline would time out.
CREATE FUNCTION statement_audit.create_activity() RETURNS trigger
LANGUAGE plpgsql
SET enable_nestloop = off
AS $$
DECLARE
    v_excluded text[] := TG_ARGV[0]::text[];
    v_key text := TG_ARGV[1];
    v_transaction_id bigint;
BEGIN
    INSERT INTO statement_audit.transaction (native_transaction_id, issued_at, client_addr)
    VALUES (pg_current_xact_id(), now(), inet_client_addr())
    ON CONFLICT (native_transaction_id) DO NOTHING
    RETURNING id INTO v_transaction_id;
    IF v_transaction_id IS NULL THEN
        SELECT t.id INTO v_transaction_id
          FROM statement_audit.transaction AS t
         WHERE t.native_transaction_id = pg_current_xact_id();
    END IF;

    IF TG_OP = 'INSERT' THEN
        INSERT INTO statement_audit.activity (schema_name, table_name, relid, issued_at,
            native_transaction_id, verb, old_data, changed_data, transaction_id)
        SELECT TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_RELID, statement_timestamp(),
               pg_current_xact_id(), 'insert', NULL, to_jsonb(n) - v_excluded, v_transaction_id
          FROM new_rows AS n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO statement_audit.activity (schema_name, table_name, relid, issued_at,
            native_transaction_id, verb, old_data, changed_data, transaction_id)
        SELECT TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_RELID, statement_timestamp(),
               pg_current_xact_id(), 'update', pair.old_data,
               statement_audit.jsonb_subtract(pair.new_data, pair.old_data), v_transaction_id
          FROM (SELECT to_jsonb(o) - v_excluded AS old_data,
                       to_jsonb(n) - v_excluded AS new_data
                  FROM old_rows AS o
                  JOIN new_rows AS n ON to_jsonb(o) -> v_key = to_jsonb(n) -> v_key) AS pair
         WHERE pair.new_data <> pair.old_data;
    ELSE
        INSERT INTO statement_audit.activity (schema_name, table_name, relid, issued_at,
            native_transaction_id, verb, old_data, changed_data, transaction_id)
        SELECT TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_RELID, statement_timestamp(),
               pg_current_xact_id(), 'delete', to_jsonb(o) - v_excluded, NULL, v_transaction_id
          FROM old_rows AS o;
    END IF;
    RETURN NULL;
END
$$;
