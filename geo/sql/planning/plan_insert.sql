-- Insert a plan in draft for a designated area.
WITH n AS (SELECT nextval(pg_get_serial_sequence('neighbourhood_plan', 'id')) AS id)
INSERT INTO neighbourhood_plan (id, reference, area_id, name, status, documents, last_step_on,
                                is_example, created_by)
SELECT n.id, coalesce(%(reference)s, 'NP-' || lpad(n.id::text, 6, '0')), %(area_id)s, %(name)s,
       'draft', %(documents)s, %(drafted_on)s, %(is_example)s, %(actor)s
FROM n
RETURNING id, reference;
