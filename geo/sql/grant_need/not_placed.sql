-- Imported grants (GBP, in the date range) that could not be placed anywhere.
SELECT count(*) AS grants, coalesce(sum(amount_awarded), 0) AS amount
FROM imported_grant
WHERE currency = 'GBP' AND placed_code IS NULL
  AND (%(from_date)s::date IS NULL OR award_date >= %(from_date)s::date)
  AND (%(to_date)s::date IS NULL OR award_date <= %(to_date)s::date);
