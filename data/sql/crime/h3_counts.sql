-- Crimes per resolution-9 H3 cell, all held and in the 12 months to the force's latest month.
WITH force_latest AS (
    SELECT force, to_char(to_date(max(month), 'YYYY-MM') - interval '11 months', 'YYYY-MM') AS since
    FROM crime_month GROUP BY force
)
SELECT c.h3_cell, count(*), count(*) FILTER (WHERE c.month >= f.since)
FROM crime c JOIN force_latest f ON f.force = c.force
WHERE c.h3_cell IS NOT NULL
GROUP BY c.h3_cell;
