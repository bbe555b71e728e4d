-- Whether a community group is known: a live group manager key carries its name.
SELECT EXISTS (
    SELECT 1 FROM api_key
    WHERE role = 'group_manager' AND revoked_at IS NULL AND lower(name) = lower(%(group)s)
) AS known;
