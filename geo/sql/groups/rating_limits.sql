-- Where a sender stands against the rating limits, in database time: their latest rating of
-- this group within the repeat window, and their ratings in the last day, with the
-- %(per_day)s-th most recent (when the rolling day frees a slot).
WITH rated_today AS (
    SELECT created_at FROM group_rating
    WHERE rater_fingerprint = %(fingerprint)s AND created_at > now() - interval '1 day'
)
SELECT now() AS now,
       (SELECT max(created_at) FROM group_rating
        WHERE rater_fingerprint = %(fingerprint)s AND group_id = %(group_id)s
          AND created_at > now() - make_interval(days => %(repeat_days)s)) AS last_here,
       (SELECT count(*) FROM rated_today) AS in_day,
       (SELECT created_at FROM rated_today
        ORDER BY created_at DESC OFFSET %(per_day)s - 1 LIMIT 1) AS day_slot_taken_at;
