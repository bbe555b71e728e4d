-- Move an application from one status to the next (the caller holds the row lock). Decisions
-- (approve, reject) record who and when; payment records when; submission stores the
-- eligibility snapshot.
UPDATE grant_application SET
    status = %(status)s::text,
    eligibility = COALESCE(%(eligibility)s::jsonb, eligibility),
    decision_reason = COALESCE(%(reason)s::text, decision_reason),
    decided_by = CASE WHEN %(decided)s THEN %(actor)s::text ELSE decided_by END,
    decided_at = CASE WHEN %(decided)s THEN now() ELSE decided_at END,
    paid_at = CASE WHEN %(status)s::text = 'paid' THEN now() ELSE paid_at END,
    updated_at = now(),
    version = version + 1
WHERE id = %(id)s AND status = %(from_status)s::text;
