-- Write an asset's lifecycle after a checked step (the caller holds the row lock); the version
-- guard makes a second writer that read the same version update nothing.
UPDATE asset SET
    status = %(status)s,
    nominated_on = %(nominated_on)s,
    nominating_group = %(nominating_group)s,
    nominating_body_type = coalesce(%(nominating_body_type)s, nominating_body_type),
    decided_on = %(decided_on)s,
    listed_on = %(listed_on)s,
    decline_reason = coalesce(%(decline_reason)s, decline_reason),
    review_requested_on = %(review_requested_on)s,
    notice_received_on = %(notice_received_on)s,
    bid_requested_on = %(bid_requested_on)s,
    interest_group = %(interest_group)s,
    disposed_on = %(disposed_on)s,
    exemption = coalesce(%(exemption)s, exemption),
    removed_on = %(removed_on)s,
    removal_reason = coalesce(%(removal_reason)s, removal_reason),
    last_step_on = %(last_step_on)s,
    updated_at = now(),
    version = version + 1
WHERE id = %(id)s AND version = %(version)s
RETURNING version;
