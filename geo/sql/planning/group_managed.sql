-- A listed neighbourhood group by reference, and whether key %(key_id)s manages it.
SELECT g.id, g.reference, g.name, g.listed,
       EXISTS (SELECT 1 FROM group_manager m
               WHERE m.group_id = g.id AND m.key_id = %(key_id)s) AS managed
FROM community_group g
WHERE g.reference = %(reference)s;
