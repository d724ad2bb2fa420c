-- History: the values of column {{ key }} of {{ schema }}.{{ table }} are removed ({{ why }}).
UPDATE {{ activity }}
   SET "old_data" = "old_data" - {{ key }},
       "changed_data" = "changed_data" - {{ key }}
 WHERE "schema_name" = {{ schema }} AND "table_name" = {{ table }}
   AND ("old_data" ? {{ key }} OR "changed_data" ? {{ key }});

