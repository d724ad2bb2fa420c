-- History: table {{ from_label }} was renamed to {{ to_label }}; its activities move along.
UPDATE {{ activity }}
   SET "schema_name" = {{ to_schema }}, "table_name" = {{ to_table }}
 WHERE "schema_name" OPERATOR(pg_catalog.=) {{ from_schema }} AND "table_name" OPERATOR(pg_catalog.=) {{ from_table }};
