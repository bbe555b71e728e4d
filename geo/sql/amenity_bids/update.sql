-- One step on a bid (the row is locked by the caller); dates already set are kept.
UPDATE amenity_bid SET
    status = %(status)s,
    decided_on = coalesce(%(decided_on)s, decided_on),
    ended_on = coalesce(%(ended_on)s, ended_on),
    reason = coalesce(%(reason)s, reason),
    terms = coalesce(%(terms)s, terms),
    last_step_on = %(last_step_on)s,
    version = version + 1
WHERE id = %(id)s;
