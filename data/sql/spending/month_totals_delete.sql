-- Forget a publisher's month totals for the months a file touched (recomputed next).
DELETE FROM spending_month_total
WHERE publisher = %(publisher)s AND month = ANY(%(months)s::date[]);
