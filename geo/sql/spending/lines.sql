-- One page of payment lines, newest first; the keyset (payment_date, id) continues a page.
SELECT l.id, l.publisher, l.payment_date, l.service, l.beneficiary_name, l.beneficiary_key,
       l.redacted, l.amount, l.irrecoverable_vat, l.over_500, l.purpose, l.category,
       l.category_code, l.transaction_number, l.invoice_number, l.beneficiary_other_id,
       l.vat_registration_number, f.file_name AS source_file, l.line_number
FROM spending_line l
JOIN spending_file f ON f.id = l.file_id
WHERE /*filter*/
  AND (%(after_date)s::date IS NULL
       OR (l.payment_date, l.id) < (%(after_date)s::date, %(after_id)s::bigint))
ORDER BY l.payment_date DESC, l.id DESC
LIMIT %(limit)s;
