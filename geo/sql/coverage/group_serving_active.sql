-- Groups' public listing follows the activity window, which moves with time even when nobody
-- writes: active = listed and activity on or after :since. Only changed rows are written.
UPDATE group_serving s
SET active = n.active, last_activity_on = n.last_activity_on
FROM (
    SELECT g.reference,
           g.listed AND coalesce(g.last_activity_on >= %(since)s, false) AS active,
           to_char(g.last_activity_on, 'YYYY-MM-DD') AS last_activity_on
    FROM community_group g
) n
WHERE s.reference = n.reference
  AND (s.active, s.last_activity_on) IS DISTINCT FROM (n.active, n.last_activity_on);
