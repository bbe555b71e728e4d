-- A group's ratings, latest first: published ones only, unless every status is asked for.
SELECT id, stars, comment, status, rater_fingerprint, created_at, moderated_by, moderated_at
FROM group_rating
WHERE group_id = %(group_id)s
  AND (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (NOT %(published_only)s::boolean OR status = 'published')
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s;
