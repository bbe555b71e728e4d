-- Recompute a publisher's month totals for the months a file touched, from all its lines.
INSERT INTO spending_month_total (
    publisher, month, beneficiary_key, service, category, over_500, redacted, amount, lines
)
SELECT publisher, date_trunc('month', payment_date)::date, beneficiary_key, service, category,
       over_500, redacted, sum(amount), count(*)
FROM spending_line
WHERE publisher = %(publisher)s
  AND payment_date >= %(first)s AND payment_date < %(end)s
  AND date_trunc('month', payment_date)::date = ANY(%(months)s::date[])
GROUP BY 1, 2, 3, 4, 5, 6, 7;
