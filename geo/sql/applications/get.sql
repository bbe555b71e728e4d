-- One application with its programme's currency; the polygon area (EPSG:27700) as WKB.
SELECT a.id, a.programme_id, a.applicant_name, a.applicant_org_id, a.title, a.description,
       a.amount, a.area_code, ST_AsBinary(a.area) AS area_wkb, a.status, a.eligibility,
       a.decision_reason, a.decided_by, a.decided_at, a.paid_at, a.created_by, a.owner_key_id,
       a.created_at, a.updated_at, a.version, p.currency
FROM grant_application a
JOIN grant_programme p ON p.id = a.programme_id
WHERE a.id = %(id)s
