-- The matched-funding pledges of an application, in the order they were given.
SELECT source_name, source_type, amount, evidence_reference
FROM match_pledge
WHERE application_id = %(id)s
ORDER BY id;
