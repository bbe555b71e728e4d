-- The beneficiary, over-£500 and redaction tests, the same for the lines and the totals.
AND (%(beneficiary_key)s::text IS NULL OR l.beneficiary_key = %(beneficiary_key)s::text)
AND (%(beneficiary_prefix)s::text IS NULL OR l.beneficiary_key IN (
        SELECT b.beneficiary_key FROM spending_beneficiary b
        WHERE b.beneficiary_key LIKE %(beneficiary_prefix)s::text
           OR b.beneficiary_key LIKE ALL (%(beneficiary_words)s::text[])))
AND (%(over_500)s::boolean IS NULL OR l.over_500 = %(over_500)s::boolean)
AND (%(redacted)s::boolean IS NULL OR l.redacted = %(redacted)s::boolean)
