-- Whether a listed neighbourhood group has the reference.
SELECT EXISTS (SELECT 1 FROM community_group WHERE reference = %(group)s AND listed);
