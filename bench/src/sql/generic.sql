-- The classic generic audit trigger: the baseline every existing tool resembles
-- (PostgreSQL-Audit, audit-trigger 91plus, …), written here from scratch.
--
-- One plpgsql function serves every table. Each row is turned into JSON as a whole
-- (to_jsonb(NEW)), excluded columns arrive as a trigger argument (TG_ARGV) and are
-- removed with `jsonb - text[]`, updates are diffed with a generic `jsonb - jsonb`
-- operator implemented in SQL, and every audited transaction gets its row in
-- `transaction`, found or created by xid with INSERT … ON CONFLICT.
--
-- No SECURITY DEFINER and no pinned search_path: both would make it slower, so the
-- baseline is, if anything, flattered.
--
-- `activity` is created by the harness before this script (same shape as ours).

CREATE TABLE generic_audit.transaction (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    native_transaction_id xid8 NOT NULL,
    issued_at timestamptz NOT NULL,
    client_addr inet,
    actor_id text,
    context jsonb
);
-- The ON CONFLICT target.
CREATE UNIQUE INDEX generic_transaction_xid ON generic_audit.transaction (native_transaction_id);
CREATE INDEX generic_transaction_actor ON generic_audit.transaction (actor_id, issued_at);

-- jsonb - jsonb: the pairs of `a` whose value differs in (or is missing from) `b`.
CREATE FUNCTION generic_audit.jsonb_subtract(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT coalesce(jsonb_object_agg(pair.key, pair.value), '{}'::jsonb)
      FROM jsonb_each(a) AS pair
     WHERE b -> pair.key IS DISTINCT FROM pair.value
$$;

CREATE OPERATOR generic_audit.- (
    LEFTARG = jsonb,
    RIGHTARG = jsonb,
    FUNCTION = generic_audit.jsonb_subtract
);

-- The context of the web-request case: the application writes the transaction row up
-- front (as PostgreSQL-Audit's Flask integration does); the trigger then finds it.
CREATE FUNCTION generic_audit.set_context(actor_id text, client_addr inet, context jsonb)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO generic_audit.transaction (native_transaction_id, issued_at, client_addr, actor_id, context)
    VALUES (pg_current_xact_id(), now(), $2, $1, $3)
    ON CONFLICT (native_transaction_id) DO UPDATE
       SET actor_id = excluded.actor_id,
           client_addr = excluded.client_addr,
           context = excluded.context
$$;

-- TG_ARGV[0]: excluded columns as a text[] literal; TG_ARGV[1]: the key columns.
CREATE FUNCTION generic_audit.create_activity() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_excluded text[] := '{}';
    v_key text[] := '{}';
    v_old jsonb;
    v_changed jsonb;
    v_keyed jsonb;
    v_object_id jsonb;
    v_transaction_id bigint;
BEGIN
    IF TG_NARGS > 0 AND TG_ARGV[0] <> '' THEN
        v_excluded := TG_ARGV[0]::text[];
    END IF;
    IF TG_NARGS > 1 AND TG_ARGV[1] <> '' THEN
        v_key := TG_ARGV[1]::text[];
    END IF;

    IF TG_OP = 'INSERT' THEN
        v_changed := to_jsonb(NEW) - v_excluded;
        v_keyed := v_changed;
    ELSIF TG_OP = 'UPDATE' THEN
        v_old := to_jsonb(OLD) - v_excluded;
        v_changed := (to_jsonb(NEW) - v_excluded) OPERATOR(generic_audit.-) v_old;
        IF v_changed = '{}'::jsonb THEN
            RETURN NULL;
        END IF;
        v_keyed := to_jsonb(NEW);
    ELSE
        v_old := to_jsonb(OLD) - v_excluded;
        v_keyed := v_old;
    END IF;

    IF cardinality(v_key) = 1 THEN
        v_object_id := v_keyed -> v_key[1];
    ELSIF cardinality(v_key) > 1 THEN
        SELECT jsonb_agg(v_keyed -> k.name ORDER BY k.position) INTO v_object_id
          FROM unnest(v_key) WITH ORDINALITY AS k(name, position);
    END IF;

    INSERT INTO generic_audit.transaction (native_transaction_id, issued_at, client_addr)
    VALUES (pg_current_xact_id(), now(), inet_client_addr())
    ON CONFLICT (native_transaction_id) DO NOTHING
    RETURNING id INTO v_transaction_id;
    IF v_transaction_id IS NULL THEN
        SELECT t.id INTO v_transaction_id
          FROM generic_audit.transaction AS t
         WHERE t.native_transaction_id = pg_current_xact_id();
    END IF;

    INSERT INTO generic_audit.activity (schema_name, table_name, relid, issued_at,
        native_transaction_id, verb, object_id, old_data, changed_data, transaction_id)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_RELID, statement_timestamp(),
        pg_current_xact_id(), lower(TG_OP), v_object_id, v_old, v_changed, v_transaction_id);
    RETURN NULL;
END
$$;
