-- The month totals a SpendingFilter means (no amount or purpose test; from/to whole months).
    (%(publisher)s::text IS NULL OR l.publisher = %(publisher)s::text)
AND (%(from_date)s::date IS NULL OR l.month >= %(from_date)s::date)
AND (%(to_date)s::date IS NULL OR l.month <= %(to_date)s::date)
AND (%(service)s::text IS NULL OR l.service IS NOT DISTINCT FROM nullif(%(service)s::text, '(none)'))
AND (%(category)s::text IS NULL OR l.category IS NOT DISTINCT FROM nullif(%(category)s::text, '(none)'))
AND (%(beneficiary_key)s::text IS NULL OR l.beneficiary_key = %(beneficiary_key)s::text)
AND (%(beneficiary_prefix)s::text IS NULL OR l.beneficiary_key IN (
        SELECT b.beneficiary_key FROM spending_beneficiary b
        WHERE b.beneficiary_key LIKE %(beneficiary_prefix)s::text
           OR b.beneficiary_key LIKE ALL (%(beneficiary_words)s::text[])))
AND (%(over_500)s::boolean IS NULL OR l.over_500 = %(over_500)s::boolean)
AND (%(redacted)s::boolean IS NULL OR l.redacted = %(redacted)s::boolean)
