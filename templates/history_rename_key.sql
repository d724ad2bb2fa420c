-- History: column {{ from }} of {{ schema }}.{{ table }} was renamed to {{ to }}. Only rows
-- holding the old key change; NULLs and empty objects stay as they are. A row holding both
-- keys would lose a value: refuse (the migration rolls back) instead.
DO $rename$
BEGIN
    IF EXISTS (SELECT FROM {{ activity }}
                WHERE "schema_name" = {{ schema }} AND "table_name" = {{ table }}
                  AND (("old_data" ? {{ from }} AND "old_data" ? {{ to }})
                    OR ("changed_data" ? {{ from }} AND "changed_data" ? {{ to }}))) THEN
        RAISE EXCEPTION 'history of %.% holds both keys % and %', {{ schema }}, {{ table }}, {{ from }}, {{ to }};
    END IF;
END
$rename$;
UPDATE {{ activity }}
   SET "old_data" = CASE WHEN "old_data" ? {{ from }}
                         THEN ("old_data" - {{ from }}) || jsonb_build_object({{ to }}, "old_data" -> {{ from }})
                         ELSE "old_data" END,
       "changed_data" = CASE WHEN "changed_data" ? {{ from }}
                             THEN ("changed_data" - {{ from }}) || jsonb_build_object({{ to }}, "changed_data" -> {{ from }})
                             ELSE "changed_data" END
 WHERE "schema_name" = {{ schema }} AND "table_name" = {{ table }}
   AND ("old_data" ? {{ from }} OR "changed_data" ? {{ from }});

