-- Make a key a manager of a group (idempotent); the group's managers after.
WITH added AS (
    INSERT INTO group_manager (group_id, key_id)
    VALUES (%(group_id)s, %(key_id)s)
    ON CONFLICT DO NOTHING
    RETURNING key_id
)
SELECT array_agg(key_id ORDER BY key_id) AS managers
FROM (SELECT key_id FROM group_manager WHERE group_id = %(group_id)s
      UNION SELECT key_id FROM added) k;
