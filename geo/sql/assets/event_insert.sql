-- Append one step to an asset's history (the table refuses updates and deletes).
INSERT INTO asset_event (asset_id, step, from_status, to_status, effective_on, recorded_on,
                         actor, details)
VALUES (%(parent_id)s, %(step)s, %(from_status)s, %(to_status)s, %(effective_on)s,
        %(recorded_on)s, %(actor)s, %(details)s);
