-- Insert a forum application for an area; a registered group keeps its NG- reference.
WITH n AS (SELECT nextval(pg_get_serial_sequence('neighbourhood_forum', 'id')) AS id)
INSERT INTO neighbourhood_forum (id, reference, area_id, name, group_id, status, cross_authority,
                                 applied_on, last_step_on, members, members_confirmed_on,
                                 open_membership, written_constitution, website, is_example,
                                 created_by)
SELECT n.id, coalesce(%(reference)s, 'NF-' || lpad(n.id::text, 6, '0')), %(area_id)s, %(name)s,
       %(group_id)s, 'applied', %(cross_authority)s, %(applied_on)s, %(applied_on)s,
       %(members)s, %(members_confirmed_on)s, %(open_membership)s, %(written_constitution)s,
       %(website)s, %(is_example)s, %(actor)s
FROM n
RETURNING id, reference;
