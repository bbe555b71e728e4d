-- The month totals a SpendingFilter means (no amount or purpose test; from/to whole months).
    (%(publisher)s::text IS NULL OR l.publisher = %(publisher)s::text)
AND (%(from_date)s::date IS NULL OR l.month >= %(from_date)s::date)
AND (%(to_date)s::date IS NULL OR l.month <= %(to_date)s::date)
AND (%(service)s::text IS NULL OR l.service IS NOT DISTINCT FROM nullif(%(service)s::text, '(none)'))
AND (%(category)s::text IS NULL OR l.category IS NOT DISTINCT FROM nullif(%(category)s::text, '(none)'))
/*beneficiary*/
