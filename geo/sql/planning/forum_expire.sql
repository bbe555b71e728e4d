-- Record that a forum's designation has expired (s.61F(8)): frees the area (and the group's
-- reference) for a new forum; the unique indexes count only live forums.
UPDATE neighbourhood_forum
SET status = 'expired', ended_on = %(ended_on)s, updated_at = now(), version = version + 1
WHERE id = %(id)s AND status = 'designated';
