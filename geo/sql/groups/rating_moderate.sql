-- An officer's decision on a rating: published (counted and shown) or rejected.
UPDATE group_rating
SET status = %(status)s, moderated_by = %(actor)s, moderated_at = now()
WHERE id = %(id)s AND group_id = %(group_id)s
RETURNING id, stars, comment, status, rater_fingerprint, created_at, moderated_by, moderated_at;
