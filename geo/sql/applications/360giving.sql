-- Approved and paid grants for the 360Giving export: only public fields. Pledges, evidence
-- references, keys, decision notes and people are never selected.
SELECT a.id, a.title, a.description, a.amount, a.status, a.applicant_org_id, a.applicant_name,
       a.decided_at, a.paid_at, a.updated_at, a.eligibility -> 'beneficiary' AS beneficiary,
       p.id AS programme_id, p.name AS programme_name, p.funder_id, p.funder_name, p.currency
FROM grant_application a
JOIN grant_programme p ON p.id = a.programme_id
WHERE a.status IN ('approved', 'paid')
  AND (%(programme)s::text IS NULL OR a.programme_id = %(programme)s::text)
ORDER BY a.decided_at, a.id;
