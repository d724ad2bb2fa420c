-- Backend CPU (ms) of 20,000-row statements, each in a rolled-back transaction:
-- the audited table, and the floor (the same DML on item_plain plus one hand-written
-- INSERT ... SELECT of the same activity rows).
-- psql -v op=update|insert|delete -v tbl=item -f bulk.sql
\set QUIET on
CREATE TEMP VIEW cpu AS SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint / 1e6 AS ms;
SELECT ms AS t0 FROM cpu \gset
\if :{?op}
\else
\set op update
\endif
\if :{?tbl}
\else
\set tbl item
\endif
BEGIN;
SELECT :'op' = 'update' AS is_update, :'op' = 'insert' AS is_insert \gset
\if :is_update
UPDATE :tbl SET qty = qty + 1, updated_at = now() WHERE id <= 20000;
\elif :is_insert
INSERT INTO :tbl (account_id, sku, name, qty, price, status, note)
SELECT i % 1000, 'SKU-n' || i, 'new item ' || i, 1, 1.5, 'active', NULL FROM generate_series(1, 20000) i;
\else
DELETE FROM :tbl WHERE id <= 20000;
\endif
SELECT ms AS t1 FROM cpu \gset
ROLLBACK;
SELECT ms AS t2 FROM cpu \gset
BEGIN;
\if :is_update
WITH old AS (SELECT * FROM item_plain WHERE id <= 20000),
upd AS (UPDATE item_plain SET qty = qty + 1, updated_at = now() WHERE id <= 20000 RETURNING *)
INSERT INTO audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id, verb, object_id, old_data, changed_data, transaction_id)
SELECT 'public', 'item', 'item'::regclass, statement_timestamp(), pg_current_xact_id(), 'update', to_jsonb(o.id),
       jsonb_build_object('id', o.id, 'account_id', o.account_id, 'sku', o.sku, 'name', o.name, 'qty', o.qty, 'price', o.price,
                          'status', o.status, 'created_at', timezone('UTC', o.created_at), 'updated_at', timezone('UTC', o.updated_at), 'note', o.note),
       jsonb_build_object('qty', n.qty, 'updated_at', timezone('UTC', n.updated_at)), NULL
  FROM upd n JOIN old o ON o.id = n.id;
\elif :is_insert
WITH ins AS (INSERT INTO item_plain (account_id, sku, name, qty, price, status, note)
SELECT i % 1000, 'SKU-n' || i, 'new item ' || i, 1, 1.5, 'active', NULL FROM generate_series(1, 20000) i RETURNING *)
INSERT INTO audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id, verb, object_id, old_data, changed_data, transaction_id)
SELECT 'public', 'item', 'item'::regclass, statement_timestamp(), pg_current_xact_id(), 'insert', to_jsonb(n.id), NULL,
       jsonb_build_object('id', n.id, 'account_id', n.account_id, 'sku', n.sku, 'name', n.name, 'qty', n.qty, 'price', n.price,
                          'status', n.status, 'created_at', timezone('UTC', n.created_at), 'updated_at', timezone('UTC', n.updated_at), 'note', n.note), NULL
  FROM ins n;
\else
WITH del AS (DELETE FROM item_plain WHERE id <= 20000 RETURNING *)
INSERT INTO audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id, verb, object_id, old_data, changed_data, transaction_id)
SELECT 'public', 'item', 'item'::regclass, statement_timestamp(), pg_current_xact_id(), 'delete', to_jsonb(o.id),
       jsonb_build_object('id', o.id, 'account_id', o.account_id, 'sku', o.sku, 'name', o.name, 'qty', o.qty, 'price', o.price,
                          'status', o.status, 'created_at', timezone('UTC', o.created_at), 'updated_at', timezone('UTC', o.updated_at), 'note', o.note), NULL, NULL
  FROM del o;
\endif
SELECT ms AS t3 FROM cpu \gset
ROLLBACK;
\set QUIET off
SELECT :'op' AS op, round((:t1 - :t0)::numeric) AS audited_ms, round((:t3 - :t2)::numeric) AS floor_ms,
       round(((:t1 - :t0) / (:t3 - :t2))::numeric, 2) AS ratio;
