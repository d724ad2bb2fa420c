-- History: column {{ from }} of {{ schema }}.{{ table }} was renamed to {{ to }}. Only rows
-- holding the old key change; NULLs and empty objects stay as they are. A row holding both
-- keys would lose a value: refuse (the migration rolls back) instead.
-- Functions and operators are schema-qualified: a migration runs with the privileges of
-- its role, and the search_path must not be able to redirect what it calls.
DO $rename$
BEGIN
    IF EXISTS (SELECT FROM {{ activity }}
                WHERE "schema_name" OPERATOR(pg_catalog.=) {{ schema }} AND "table_name" OPERATOR(pg_catalog.=) {{ table }}
                  AND (("old_data" OPERATOR(pg_catalog.?) {{ from }} AND "old_data" OPERATOR(pg_catalog.?) {{ to }})
                    OR ("changed_data" OPERATOR(pg_catalog.?) {{ from }} AND "changed_data" OPERATOR(pg_catalog.?) {{ to }}))) THEN
        RAISE EXCEPTION 'history of %.% holds both keys % and %', {{ schema }}, {{ table }}, {{ from }}, {{ to }};
    END IF;
END
$rename$;
UPDATE {{ activity }}
   SET "old_data" = CASE WHEN "old_data" OPERATOR(pg_catalog.?) {{ from }}
                         THEN ("old_data" OPERATOR(pg_catalog.-) {{ from }}::pg_catalog.text) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object({{ to }}, "old_data" OPERATOR(pg_catalog.->) {{ from }}::pg_catalog.text)
                         ELSE "old_data" END,
       "changed_data" = CASE WHEN "changed_data" OPERATOR(pg_catalog.?) {{ from }}
                             THEN ("changed_data" OPERATOR(pg_catalog.-) {{ from }}::pg_catalog.text) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object({{ to }}, "changed_data" OPERATOR(pg_catalog.->) {{ from }}::pg_catalog.text)
                             ELSE "changed_data" END
 WHERE "schema_name" OPERATOR(pg_catalog.=) {{ schema }} AND "table_name" OPERATOR(pg_catalog.=) {{ table }}
   AND ("old_data" OPERATOR(pg_catalog.?) {{ from }} OR "changed_data" OPERATOR(pg_catalog.?) {{ from }});
