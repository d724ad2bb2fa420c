-- The classic row-level audit trigger (the design of the PostgreSQL wiki's
-- "audit trigger 91plus" and its forks), written here from its technique as a
-- baseline: one generic plpgsql function fired FOR EACH ROW, the row turned into an
-- hstore (`hstore(NEW)`), an update's changes computed as `hstore(NEW) - hstore(OLD)`,
-- one row per change into an indexed log table that also keeps the session user, the
-- client, three timestamps and the query text. It records no application actor and no
-- record key.
--
-- The harness creates the schema and the hstore extension before this script.

CREATE TABLE hstore_audit.logged_actions (
    event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    relid oid NOT NULL,
    session_user_name text,
    action_tstamp_tx timestamptz NOT NULL,
    action_tstamp_stm timestamptz NOT NULL,
    action_tstamp_clk timestamptz NOT NULL,
    transaction_id bigint,
    application_name text,
    client_addr inet,
    client_port integer,
    client_query text,
    action text NOT NULL CHECK (action IN ('I', 'D', 'U', 'T')),
    row_data hstore,
    changed_fields hstore,
    statement_only boolean NOT NULL
);
CREATE INDEX logged_actions_relid ON hstore_audit.logged_actions (relid);
CREATE INDEX logged_actions_action_tstamp_stm ON hstore_audit.logged_actions (action_tstamp_stm);
CREATE INDEX logged_actions_action ON hstore_audit.logged_actions (action);

-- TG_ARGV[0]: the excluded columns, as a text[] literal.
CREATE FUNCTION hstore_audit.if_modified() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_row hstore_audit.logged_actions;
    v_excluded text[] := ARRAY[]::text[];
BEGIN
    IF TG_NARGS > 0 THEN
        v_excluded := TG_ARGV[0]::text[];
    END IF;
    v_row.schema_name := TG_TABLE_SCHEMA::text;
    v_row.table_name := TG_TABLE_NAME::text;
    v_row.relid := TG_RELID;
    v_row.session_user_name := session_user::text;
    v_row.action_tstamp_tx := current_timestamp;
    v_row.action_tstamp_stm := statement_timestamp();
    v_row.action_tstamp_clk := clock_timestamp();
    v_row.transaction_id := txid_current();
    v_row.application_name := current_setting('application_name');
    v_row.client_addr := inet_client_addr();
    v_row.client_port := inet_client_port();
    v_row.client_query := current_query();
    v_row.action := substring(TG_OP, 1, 1);
    v_row.statement_only := false;
    IF TG_OP = 'UPDATE' THEN
        v_row.row_data := hstore(OLD.*) - v_excluded;
        v_row.changed_fields := (hstore(NEW.*) - v_row.row_data) - v_excluded;
        IF v_row.changed_fields = hstore('') THEN
            -- Nothing audited changed.
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        v_row.row_data := hstore(OLD.*) - v_excluded;
    ELSE
        v_row.row_data := hstore(NEW.*) - v_excluded;
    END IF;
    INSERT INTO hstore_audit.logged_actions (
        schema_name, table_name, relid, session_user_name, action_tstamp_tx,
        action_tstamp_stm, action_tstamp_clk, transaction_id, application_name,
        client_addr, client_port, client_query, action, row_data, changed_fields,
        statement_only)
    VALUES (
        v_row.schema_name, v_row.table_name, v_row.relid, v_row.session_user_name,
        v_row.action_tstamp_tx, v_row.action_tstamp_stm, v_row.action_tstamp_clk,
        v_row.transaction_id, v_row.application_name, v_row.client_addr,
        v_row.client_port, v_row.client_query, v_row.action, v_row.row_data,
        v_row.changed_fields, v_row.statement_only);
    RETURN NULL;
END
$$;
