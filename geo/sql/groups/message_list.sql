-- The messages sent to a group through its relay form, latest first.
SELECT id, sender_name, sender_email, message, created_at, read_at
FROM group_message
WHERE group_id = %(group_id)s
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s;
