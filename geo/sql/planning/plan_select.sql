-- Plans (of one area, or one plan).
SELECT p.id, p.reference, p.area_id, a.reference AS area_reference, p.name, p.status,
       p.consultation_started_on, p.submitted_on, p.publicised_on, p.examination_started_on,
       p.report_received_on, p.referendum_ordered_on, p.referendum_on, p.made_on, p.ended_on,
       p.decided_late, p.reason, p.documents, p.last_step_on, p.is_example, p.created_by,
       p.created_at, p.updated_at, p.version, a.lad_codes
FROM neighbourhood_plan p
JOIN neighbourhood_area a ON a.id = p.area_id
WHERE (%(id)s::bigint IS NULL OR p.id = %(id)s::bigint)
  AND (%(area_id)s::bigint IS NULL OR p.area_id = %(area_id)s::bigint)
ORDER BY p.id
