-- A rating from a member of the public, pending until an officer moderates it.
INSERT INTO group_rating (group_id, stars, comment, rater_fingerprint)
VALUES (%(group_id)s, %(stars)s, %(comment)s, %(fingerprint)s)
RETURNING id, stars, comment, status, rater_fingerprint, created_at, moderated_by, moderated_at;
