-- A file's coarser totals, from its month totals: by month alone, by beneficiary, service or
-- category over all months, and by month with the service or the category. Each level keeps
-- the publisher, the £500 flag and redaction. GROUPING(...) numbers the set a row belongs
-- to (a bit for each of the four columns that set leaves out); geo/spending/reads.py (LEVELS)
-- names the same levels.
INSERT INTO spending_rollup (
    file_id, publisher, level, month, beneficiary_key, service, category, over_500, redacted,
    amount, lines
)
SELECT file_id, publisher,
       CASE GROUPING(month, beneficiary_key, service, category)
           WHEN 7 THEN 'month' WHEN 11 THEN 'beneficiary' WHEN 13 THEN 'service'
           WHEN 14 THEN 'category' WHEN 5 THEN 'month_service' WHEN 6 THEN 'month_category'
       END,
       month, beneficiary_key, service, category, over_500, redacted, sum(amount), sum(lines)
FROM spending_month_total
WHERE file_id = %(file_id)s
GROUP BY GROUPING SETS (
    (file_id, publisher, over_500, redacted, month),
    (file_id, publisher, over_500, redacted, beneficiary_key),
    (file_id, publisher, over_500, redacted, service),
    (file_id, publisher, over_500, redacted, category),
    (file_id, publisher, over_500, redacted, month, service),
    (file_id, publisher, over_500, redacted, month, category)
);
