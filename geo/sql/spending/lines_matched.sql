-- How many lines a filter matches, and their total (from the lines or the month totals).
SELECT coalesce({count}, 0) AS matched, coalesce(sum(l.amount), 0) AS amount
FROM {table} l
WHERE /*filter*/;
