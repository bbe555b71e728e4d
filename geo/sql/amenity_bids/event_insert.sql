-- Append one step to a bid's history (the table refuses updates and deletes).
INSERT INTO amenity_bid_event (bid_id, step, from_status, to_status, effective_on, recorded_on,
                               actor, details)
VALUES (%(parent_id)s, %(step)s, %(from_status)s, %(to_status)s, %(effective_on)s, %(recorded_on)s,
        %(actor)s, %(details)s);
