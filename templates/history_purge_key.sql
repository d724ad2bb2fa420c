-- History: the values of column {{ key }} of {{ schema }}.{{ table }} are removed ({{ why }}).
-- Functions and operators are schema-qualified: a migration runs with the privileges of
-- its role, and the search_path must not be able to redirect what it calls.
UPDATE {{ activity }}
   SET "old_data" = "old_data" OPERATOR(pg_catalog.-) {{ key }}::pg_catalog.text,
       "changed_data" = "changed_data" OPERATOR(pg_catalog.-) {{ key }}::pg_catalog.text
 WHERE "schema_name" OPERATOR(pg_catalog.=) {{ schema }} AND "table_name" OPERATOR(pg_catalog.=) {{ table }}
   AND ("old_data" OPERATOR(pg_catalog.?) {{ key }} OR "changed_data" OPERATOR(pg_catalog.?) {{ key }});
