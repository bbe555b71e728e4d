-- Append one step to the planning history (the table refuses updates and deletes).
INSERT INTO planning_event (entity, entity_id, area_id, step, from_status, to_status,
                            effective_on, recorded_on, actor, details)
VALUES (%(entity)s, %(entity_id)s, %(area_id)s, %(step)s, %(from_status)s, %(to_status)s,
        %(effective_on)s, %(recorded_on)s, %(actor)s, %(details)s);
