-- Write a plan's lifecycle after a checked step (the row is locked).
UPDATE neighbourhood_plan
SET status = %(status)s, consultation_started_on = %(consultation_started_on)s,
    submitted_on = %(submitted_on)s, publicised_on = %(publicised_on)s,
    examination_started_on = %(examination_started_on)s,
    report_received_on = %(report_received_on)s,
    referendum_ordered_on = %(referendum_ordered_on)s, referendum_on = %(referendum_on)s,
    made_on = %(made_on)s, ended_on = %(ended_on)s, decided_late = %(decided_late)s,
    reason = coalesce(%(reason)s, reason), documents = documents || %(documents)s,
    last_step_on = %(last_step_on)s, updated_at = now(), version = version + 1
WHERE id = %(id)s;
