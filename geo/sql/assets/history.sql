-- Every step of one asset, oldest first.
SELECT id, step, from_status, to_status, effective_on, recorded_on, actor, at, details
FROM asset_event
WHERE asset_id = %(id)s
ORDER BY id;
