-- Money placed on a ward or a whole district: it has no single IMD decile.
SELECT source, level, sum(amount) AS amount, count(DISTINCT grant_key) AS grants
FROM area_money
WHERE %(area)s::text IS NULL OR lad_code = %(area)s::text
GROUP BY source, level
ORDER BY source, level;
