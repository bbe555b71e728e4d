-- A group's latest activity date, recomputed from its records (what "active" is decided on).
UPDATE community_group
SET last_activity_on = (SELECT max(held_on) FROM group_activity WHERE group_id = %(id)s),
    updated_at = now()
WHERE id = %(id)s
RETURNING last_activity_on;
