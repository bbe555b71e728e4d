-- Totals of the matching lines by one grouping (the group expression comes from a fixed
-- registry), largest first or by key, with the number of groups and the grand total. Lines are
-- read from spending_line, or from the month totals or a rollup level where the filter allows
-- it. Names are joined to the groups shown only, after the limit.
WITH grouped AS (
    SELECT {group} AS key, sum(l.amount) AS amount, {count} AS lines
    FROM {table} l
    WHERE /*filter*/
    GROUP BY 1
),
shown AS (
    SELECT g.key, g.amount, g.lines,
           count(*) OVER () AS groups, sum(g.amount) OVER () AS total_amount,
           sum(g.lines) OVER () AS total_lines
    FROM grouped g
    ORDER BY {order}
    LIMIT %(limit)s
)
SELECT g.key, {label} AS name, g.amount, g.lines, g.groups, g.total_amount, g.total_lines
FROM shown g
{join}
ORDER BY {order};
