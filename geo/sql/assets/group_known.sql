-- Whether a community group is known: a live group manager key carries its name, or a listed
-- neighbourhood group of the register has that name or reference.
SELECT EXISTS (
    SELECT 1 FROM api_key
    WHERE role = 'group_manager' AND revoked_at IS NULL AND lower(name) = lower(%(group)s)
) OR EXISTS (
    SELECT 1 FROM community_group
    WHERE listed AND (reference = %(group)s OR lower(name) = lower(%(group)s))
) AS known;
