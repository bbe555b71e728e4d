-- What a loaded file holds: its lines, their total and the payment dates they span.
UPDATE spending_file f
SET line_count = t.lines, total_amount = t.total,
    first_payment_date = t.first_date, last_payment_date = t.last_date
FROM (
    SELECT count(*) AS lines, coalesce(sum(amount), 0) AS total,
           min(payment_date) AS first_date, max(payment_date) AS last_date
    FROM {partition}
) t
WHERE f.id = %(file_id)s
RETURNING f.line_count, f.total_amount, f.first_payment_date, f.last_payment_date;
