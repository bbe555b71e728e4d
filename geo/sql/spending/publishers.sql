-- The files loaded per publisher: what the spending page and the API describe.
SELECT f.publisher, f.file_name, f.sha256, f.line_count, f.total_amount, f.first_payment_date,
       f.last_payment_date, f.loaded_at
FROM spending_file f
ORDER BY f.publisher, f.first_payment_date;
