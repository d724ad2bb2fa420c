-- History: column {{ key }} of {{ schema }}.{{ table }} changed type to {{ new_type }}; recorded
-- values take the JSON form of the new type. A value the new type cannot hold makes the
-- migration fail, as the ALTER TABLE would have.
-- Functions and operators are schema-qualified: a migration runs with the privileges of
-- its role, and the search_path must not be able to redirect what it calls.
UPDATE {{ activity }}
   SET "old_data" = CASE WHEN pg_catalog.jsonb_typeof("old_data" OPERATOR(pg_catalog.->) {{ key }}::pg_catalog.text) OPERATOR(pg_catalog.=) ANY (ARRAY['number', 'string', 'boolean'])
                         THEN pg_catalog.jsonb_set("old_data", ARRAY[{{ key }}], pg_catalog.to_jsonb(("old_data" OPERATOR(pg_catalog.->>) {{ key }}::pg_catalog.text)::{{ cast_type }}))
                         ELSE "old_data" END,
       "changed_data" = CASE WHEN pg_catalog.jsonb_typeof("changed_data" OPERATOR(pg_catalog.->) {{ key }}::pg_catalog.text) OPERATOR(pg_catalog.=) ANY (ARRAY['number', 'string', 'boolean'])
                             THEN pg_catalog.jsonb_set("changed_data", ARRAY[{{ key }}], pg_catalog.to_jsonb(("changed_data" OPERATOR(pg_catalog.->>) {{ key }}::pg_catalog.text)::{{ cast_type }}))
                             ELSE "changed_data" END
 WHERE "schema_name" OPERATOR(pg_catalog.=) {{ schema }} AND "table_name" OPERATOR(pg_catalog.=) {{ table }}
   AND ("old_data" OPERATOR(pg_catalog.?) {{ key }} OR "changed_data" OPERATOR(pg_catalog.?) {{ key }});
