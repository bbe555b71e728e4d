-- Where a sender stands against the relay form's limits, in database time: messages in the
-- last hour and day, with the message whose expiry frees a slot in each window (the hour's
-- messages are the day's newer than an hour).
WITH sent AS (
    SELECT created_at FROM group_message
    WHERE sender_fingerprint = %(fingerprint)s AND created_at > now() - interval '1 day'
)
SELECT now() AS now,
       (SELECT count(*) FROM sent WHERE created_at > now() - interval '1 hour') AS in_hour,
       (SELECT created_at FROM sent WHERE created_at > now() - interval '1 hour'
        ORDER BY created_at DESC OFFSET %(per_hour)s - 1 LIMIT 1) AS hour_slot_taken_at,
       (SELECT count(*) FROM sent) AS in_day,
       (SELECT created_at FROM sent
        ORDER BY created_at DESC OFFSET %(per_day)s - 1 LIMIT 1) AS day_slot_taken_at;
