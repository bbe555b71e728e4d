-- A new expression of interest; the partial unique index refuses a group's second open bid.
INSERT INTO amenity_bid (asset_id, group_name, threat, proposal, status, expressed_on,
                         last_step_on, created_by)
VALUES (%(asset_id)s, %(group_name)s, %(threat)s, %(proposal)s, 'expressed', %(expressed_on)s,
        %(expressed_on)s, %(created_by)s)
RETURNING id;
