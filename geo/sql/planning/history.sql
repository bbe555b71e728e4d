-- Every step recorded for a neighbourhood area, its forums, plans and levy, oldest first.
SELECT e.id, e.entity, e.entity_id, e.step, e.from_status, e.to_status, e.effective_on,
       e.recorded_on, e.actor, e.at, e.details
FROM planning_event e
WHERE e.area_id = %(area_id)s
ORDER BY e.id;
