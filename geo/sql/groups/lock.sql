-- Lock a group's row for a write (parallel writes to one group queue here).
SELECT id, version FROM community_group WHERE id = %(id)s FOR UPDATE;
