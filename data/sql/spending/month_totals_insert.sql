-- A file's month totals by every grouping the totals serve, from its new partition.
INSERT INTO spending_month_total (
    file_id, publisher, month, beneficiary_key, service, category, over_500, redacted, amount,
    lines
)
SELECT %(file_id)s, publisher, date_trunc('month', payment_date)::date, beneficiary_key,
       service, category, over_500, redacted, sum(amount), count(*)
FROM {partition}
GROUP BY 2, 3, 4, 5, 6, 7, 8;
