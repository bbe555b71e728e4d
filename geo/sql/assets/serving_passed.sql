-- Assets whose map row shows a deadline that has passed by a date (ISO text compares as dates),
-- locked so a concurrent step waits for the rewrite.
SELECT fid FROM asset_serving WHERE next_deadline < %(day)s ORDER BY fid FOR UPDATE;
