-- Where a sender stands against the relay form's limits, in database time: messages in the
-- last hour and day, with the message whose expiry frees a slot in each window.
SELECT now() AS now,
       (SELECT count(*) FROM group_message
        WHERE sender_fingerprint = %(fingerprint)s
          AND created_at > now() - interval '1 hour') AS in_hour,
       (SELECT created_at FROM group_message
        WHERE sender_fingerprint = %(fingerprint)s
          AND created_at > now() - interval '1 hour'
        ORDER BY created_at DESC
        OFFSET %(per_hour)s - 1 LIMIT 1) AS hour_slot_taken_at,
       (SELECT count(*) FROM group_message
        WHERE sender_fingerprint = %(fingerprint)s
          AND created_at > now() - interval '1 day') AS in_day,
       (SELECT created_at FROM group_message
        WHERE sender_fingerprint = %(fingerprint)s
          AND created_at > now() - interval '1 day'
        ORDER BY created_at DESC
        OFFSET %(per_day)s - 1 LIMIT 1) AS day_slot_taken_at;
