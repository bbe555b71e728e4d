-- A message sent through a group's relay form (the sender never sees the leader's address).
INSERT INTO group_message (group_id, sender_name, sender_email, message, sender_fingerprint)
VALUES (%(group_id)s, %(sender_name)s, %(sender_email)s, %(message)s, %(fingerprint)s)
RETURNING id, created_at;
