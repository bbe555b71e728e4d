-- One rating of a group, locked for the moderation that reads it.
SELECT id, stars, comment, status, rater_fingerprint, created_at, moderated_by, moderated_at
FROM group_rating
WHERE id = %(id)s AND group_id = %(group_id)s
FOR UPDATE;
