-- The payment lines a SpendingFilter means; every NULL parameter leaves its test out.
    (%(publisher)s::text IS NULL OR l.publisher = %(publisher)s::text)
AND (%(from_date)s::date IS NULL OR l.payment_date >= %(from_date)s::date)
AND (%(to_date)s::date IS NULL OR l.payment_date <= %(to_date)s::date)
AND (%(min_amount)s::numeric IS NULL OR l.amount >= %(min_amount)s::numeric)
AND (%(max_amount)s::numeric IS NULL OR l.amount <= %(max_amount)s::numeric)
AND (%(service)s::text IS NULL OR l.service IS NOT DISTINCT FROM nullif(%(service)s::text, '(none)'))
AND (%(category)s::text IS NULL OR l.category IS NOT DISTINCT FROM nullif(%(category)s::text, '(none)'))
AND (%(purpose_words)s::text[] IS NULL OR lower(l.purpose) LIKE ALL (%(purpose_words)s::text[]))
/*beneficiary*/
