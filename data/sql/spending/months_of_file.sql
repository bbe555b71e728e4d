-- The months a file's lines fall in (before it is replaced, and after it is written).
SELECT DISTINCT date_trunc('month', payment_date)::date AS month
FROM spending_line
WHERE file_id = %(file_id)s;
