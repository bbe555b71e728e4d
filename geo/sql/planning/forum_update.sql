-- Write a forum's lifecycle after a checked step (the row is locked).
UPDATE neighbourhood_forum
SET status = %(status)s, publicised_on = %(publicised_on)s, designated_on = %(designated_on)s,
    decided_on = %(decided_on)s, decided_late = %(decided_late)s, ended_on = %(ended_on)s,
    members = coalesce(%(members)s, members),
    members_confirmed_on = coalesce(%(members_confirmed_on)s, members_confirmed_on),
    open_membership = open_membership OR %(open_membership)s,
    written_constitution = written_constitution OR %(written_constitution)s,
    reason = coalesce(%(reason)s, reason), last_step_on = %(last_step_on)s,
    updated_at = now(), version = version + 1
WHERE id = %(id)s;
