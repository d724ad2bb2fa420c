-- History: column {{ key }} of {{ schema }}.{{ table }} changed type to {{ new_type }}; recorded
-- values take the JSON form of the new type. A value the new type cannot hold makes the
-- migration fail, as the ALTER TABLE would have.
UPDATE {{ activity }}
   SET "old_data" = CASE WHEN jsonb_typeof("old_data" -> {{ key }}) IN ('number', 'string', 'boolean')
                         THEN jsonb_set("old_data", ARRAY[{{ key }}], to_jsonb(("old_data" ->> {{ key }})::{{ new_type }}))
                         ELSE "old_data" END,
       "changed_data" = CASE WHEN jsonb_typeof("changed_data" -> {{ key }}) IN ('number', 'string', 'boolean')
                             THEN jsonb_set("changed_data", ARRAY[{{ key }}], to_jsonb(("changed_data" ->> {{ key }})::{{ new_type }}))
                             ELSE "changed_data" END
 WHERE "schema_name" = {{ schema }} AND "table_name" = {{ table }}
   AND ("old_data" ? {{ key }} OR "changed_data" ? {{ key }});

