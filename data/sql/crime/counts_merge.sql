-- One count table brought in step with its counts of the force-months replaced (the table,
-- the temporary table of its counts, and their key and counted columns are put in by
-- data/crime.py): keys no longer counted go, changed counts are updated and new ones are
-- inserted, in the order of the key (inserting into a primary key in order is the cheaper).
-- A re-import of the same files writes nothing here.
DELETE FROM {table} c
USING crime_replaced_months s
WHERE c.force = s.force AND c.month = s.month
  AND ({c_key}) NOT IN (SELECT {key} FROM {counted});
INSERT INTO {table} AS c ({key}, {value})
SELECT {key}, {value} FROM {counted}
ORDER BY {key}
ON CONFLICT ({key}) DO UPDATE SET ({value}) = ROW({excluded_value})
WHERE ({c_value}) IS DISTINCT FROM ({excluded_value});
