-- Write an area application's lifecycle after a checked step (the row is locked).
UPDATE neighbourhood_area
SET status = %(status)s, publicised_on = %(publicised_on)s, decided_on = %(decided_on)s,
    decided_late = %(decided_late)s, reason = coalesce(%(reason)s, reason),
    last_step_on = %(last_step_on)s, updated_at = now(), version = version + 1
WHERE id = %(id)s;
