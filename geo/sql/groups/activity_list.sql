-- A group's activity, latest first.
SELECT id, kind, held_on, title, description, attendance, recorded_by, at
FROM group_activity
WHERE group_id = %(group_id)s
ORDER BY held_on DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s;
